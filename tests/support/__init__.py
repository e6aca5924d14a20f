"""Test helpers shared by the test suite (not part of the product)."""
