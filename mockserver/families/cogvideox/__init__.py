"""CogVideoX (官方格式): Zhipu BigModel video generation under /cogvideox/v4, tasks PROCESSING -> SUCCESS | FAIL."""
