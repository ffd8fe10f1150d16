"""The `codeinstruct` command: argument parsing in `main`, one small module per area."""
