"""Markdown for pull-request comments and docs, inert whatever the input says."""
