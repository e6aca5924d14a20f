"""The one-file HTML report of a run (``onionlab report``): an analyst's view without Docker."""
