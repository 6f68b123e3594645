"""watch: see docs/architecture.md."""
