"""Tests of the tracker, domain and API-evidence matchers."""
