"""ledger.verify: see docs/architecture.md."""
