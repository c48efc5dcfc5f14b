"""Facts about the Android platform: attribute ids, permission catalog, implied permissions."""
