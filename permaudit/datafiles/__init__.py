"""Reading YAML data and config files with positions, and precompiled copies of shipped data."""
