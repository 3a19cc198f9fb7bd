"""Kling (可灵, official format under /kling): image and video tasks in the {code, message, request_id, data} envelope."""
