"""Training service: fine-tune on synthesized records, evaluate on HumanEval, run jobs locally or as
Kubeflow Trainer TrainJobs. Heavy modules (torch, transformers) load only when a function needs them.
"""
