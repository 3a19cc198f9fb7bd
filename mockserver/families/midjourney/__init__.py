"""Midjourney (midjourney-proxy behind the relay): submit tasks, follow them, act on their buttons."""
