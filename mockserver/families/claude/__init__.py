"""Anthropic's Messages format, as new-api relays it on /v1/messages."""
