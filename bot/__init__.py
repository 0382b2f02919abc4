"""A multilingual Telegram assistant for refugees, asylum seekers and migrants."""
