"""Built-in extractor plugins, written and registered exactly as an instructor's would be.

Each module uses only the public hook API (``crawler.hookimpl``) and item types.
"""
