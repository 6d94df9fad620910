"""Services: the only code that writes sources, connections, integrations and runs."""
