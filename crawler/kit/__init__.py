"""The plugin author's kit: parsing helpers, the testing kit, the plugin scaffold and checker."""
