"""siem: see docs/architecture.md."""
