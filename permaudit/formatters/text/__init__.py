"""Terminal text: tables for every command, with terminal-safe escaping."""
