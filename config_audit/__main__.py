"""`python -m config_audit` runs the command line."""

from __future__ import annotations

from config_audit.cli import main

if __name__ == "__main__":
    main()
