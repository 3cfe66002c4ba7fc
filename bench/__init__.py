"""Benchmarks at the scale DESIGN.md promises (1 million leads); scripts, not tests."""
