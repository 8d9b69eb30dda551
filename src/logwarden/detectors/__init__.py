"""Detectors read the case database and say what they found; they never parse files."""
