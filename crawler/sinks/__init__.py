"""Where crawl results go besides the run directory (framework core): Elasticsearch."""
