"""Luma video: 官方格式(v2) (/luma/generations ...) and the GoAmzAI free and paid formats."""
