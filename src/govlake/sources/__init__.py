"""Readers of the department systems."""
