"""alerts: see docs/architecture.md."""
