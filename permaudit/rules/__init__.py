"""The ruleset: its model, the YAML reader with positions, merging user files onto the default."""
