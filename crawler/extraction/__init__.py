"""Plugins at work on pages: in bounded worker processes during a crawl, offline on saved pages."""
