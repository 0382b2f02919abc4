"""The conversation engine: a Rasa server in its own environment, its client and its lifecycle."""
