"""The language model: local llama.cpp now, tools and remote backends to come."""
