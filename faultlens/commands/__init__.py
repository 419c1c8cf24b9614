"""One module per CLI command; each exposes ``command: click.Command`` registered in ``faultlens.cli``."""
