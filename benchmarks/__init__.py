"""Benchmarks of spectra against side-by-side baselines; run them all with ``python -m benchmarks``."""
