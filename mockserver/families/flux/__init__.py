"""Flux in Black Forest Labs' own format: create a task, poll get_result, get a webhook."""
