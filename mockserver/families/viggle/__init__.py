"""Viggle (reverse of viggle.ai's web API): asset uploads, templates, Mix / Multi / Move video tasks, credits."""
