"""Small helpers for reading pages in a plugin (the public face of the kit's ``parsing``)."""

from onionlab.crawler.kit.parsing import fingerprint, has, number, text, texts

__all__ = ["fingerprint", "has", "number", "text", "texts"]
