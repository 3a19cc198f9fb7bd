"""Faults and stream physics: wrappers around a reply or a stream, chosen by steering.

A fault takes what a handler produced and reshapes its delivery (an event cut in half, a connection
reset, a stream that stops early); physics pace a stream like a real model. Handlers never know.
``desk.FaultDesk`` is the door the request path uses; it costs nothing when nothing is configured.
"""
