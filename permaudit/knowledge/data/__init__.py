"""Shipped knowledge data: Exodus trackers (ODbL), PSL (MPL-2.0), permaudit's own tables."""
