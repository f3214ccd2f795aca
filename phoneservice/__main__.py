"""Run the command line as ``python -m phoneservice``."""

from phoneservice.cli import main

raise SystemExit(main())
