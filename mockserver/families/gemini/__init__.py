"""Google's Gemini API format, as new-api relays it on /v1beta/models/{model}:action."""
