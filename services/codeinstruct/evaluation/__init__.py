"""Benchmarks scored on the sandbox: HumanEval pass@k (`evaluation.humaneval`)."""
