"""Speaking: sentence chunking and speech synthesis."""
