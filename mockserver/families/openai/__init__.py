"""The OpenAI-compatible family (OpenAI接口): chat, completions, images, embeddings, audio, models."""
