"""Listening: voice activity, endpointing and (later) the wake word."""
