"""Stand-ins for standard tools, each kept only while its measured saving pays (see headers)."""
