"""Thin Telegram handlers: extract, call the conversation, render, send."""
