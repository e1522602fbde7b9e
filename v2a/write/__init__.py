"""The writing stages: outline (chapters with times) and chapters (prose per chapter)."""
