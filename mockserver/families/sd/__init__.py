"""Stable Diffusion (Stability AI's own API under /sd): v2beta ultra / core / sd3 and v1 text-to-image."""
