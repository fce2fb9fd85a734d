"""`python -m showcaller` runs the CLI."""

from showcaller.cli import main

raise SystemExit(main())
