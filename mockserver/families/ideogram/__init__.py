"""Ideogram (official format, legacy v1/v2 API under /ideogram): generate, remix, upscale, describe."""
