"""Pika (DuoMi-style relay format): generate in three modes, follow with feed or callbacks."""
