"""Frozen-embedding benchmarks: datasets x representations x heads -> metrics, ranks, plots."""
