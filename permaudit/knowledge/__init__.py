"""What an app's code says beyond its manifest: trackers, servers and their owners, sensitive APIs.

Matchers over a ``CodeScan`` (``permaudit.model.code``); no I/O except reading the shipped data
files beside this package, no network. See docs/code-evidence.md.
"""
