"""Several Reports -> one view: compare (side by side) and diff (old vs new). Pure."""
