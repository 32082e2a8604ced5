"""Data quality: the one normaliser, the expectation suites, and the row split they drive."""
