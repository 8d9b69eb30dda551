"""Sigma rules compiled to SQL over the Sentinel-shaped tables of the case database."""
