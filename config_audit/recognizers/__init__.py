"""recognizers: see docs/architecture.md."""
