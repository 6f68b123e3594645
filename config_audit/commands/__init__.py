"""Click commands, one module each, imported lazily by `config_audit.cli`."""
