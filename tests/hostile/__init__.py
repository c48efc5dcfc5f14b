"""Hostile inputs and outputs: every class from issue 10 through the CLI."""
