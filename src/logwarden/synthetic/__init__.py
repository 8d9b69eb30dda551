"""Synthetic log streams for simulation tests, benchmarks and demos: never evidence."""
