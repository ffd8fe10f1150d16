"""codeinstruct: turn code into execution-checked instruction-tuning data, train and evaluate on it."""

__version__ = "0.1.0"
