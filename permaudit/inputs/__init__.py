"""Input files -> App: every input kind Android installs, read the way Android reads it."""
