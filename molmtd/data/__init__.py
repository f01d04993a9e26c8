"""Corpora, benchmark datasets and splits."""
