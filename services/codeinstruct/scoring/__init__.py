"""Scoring and ranking: verify, select, clean and order generated records (issue 5).

Each stage is a plain function over `Record`s that returns a `StageReport` (kept records, dropped
records with a reason each). The gRPC service (`service.py`) and the CLI are thin layers over them.
"""
