"""The run directory: the files a crawl leaves behind, how they are written and read back."""
