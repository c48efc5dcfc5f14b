"""Self-contained HTML pages, escaped, readable without JavaScript."""
