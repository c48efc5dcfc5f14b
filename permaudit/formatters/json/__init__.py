"""JSON documents: the versioned, deterministic contract of every command."""
