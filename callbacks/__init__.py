"""Callback requests: validation of what people enter, durable storage, hand-over to the office."""
