"""MewXAI 星月熊 open API (其他图像API2): art QR codes, art text, fusion, MX绘画 Cute; img_uuid tasks."""
