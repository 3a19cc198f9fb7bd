"""Suno 官方格式(v2) (Suno's web API passed through under /suno) and new-api's /suno/submit task format."""
