"""Pixverse (DuoMi-style relay format): generate from text or an image, feed, callbacks."""
