"""Private stand-ins for standard tools, each kept only while its measured saving pays (see each header)."""
