"""gptnb-mock pytest plugin."""
