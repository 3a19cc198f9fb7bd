"""PicWish / 佐糖 visual tasks (其他图像API1): multipart create + per-tool result polling, integer states."""
