"""`python -m codeinstruct` is the same as the `codeinstruct` command."""

from codeinstruct.cli.main import main

raise SystemExit(main())
