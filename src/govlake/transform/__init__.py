"""Spark transforms: clean/ to curated/ (one session per build)."""
