"""Runway: the DuoMi-style v1 format (generate + feed) and the official developer API under /runwayml/v1."""
