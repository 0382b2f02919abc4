"""The bot's database: models, session factory and small repository functions."""
