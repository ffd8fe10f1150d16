"""Loaders of published benchmark files: one module per format, each `load(path, language, limit)`.

Every loader returns a `Loaded` (the suite's problems and the counts of problems skipped, by
reason); `suites.SUITES` names them. Files are the user's: nothing is downloaded.
"""
