"""Kubeflow Pipelines definitions (KFP v2) for every codeinstruct method."""
