"""Trackers, servers and their owners, and sensitive APIs in an app's code (``CodeScan``).

Matchers only: no I/O except reading the shipped data files beside this package, no network.
See docs/code-evidence.md.
"""
