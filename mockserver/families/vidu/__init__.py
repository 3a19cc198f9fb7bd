"""Vidu (官方格式, vidu.studio web API under /vidu/v1): generation and upscale tasks, their query and SSE state stream."""
