"""Rasa custom actions, one module per topic.

The action server imports this package before any action, so its settings are read and checked
here: a bad value stops the server at start-up, not in the middle of a farmer's question.
"""
from settings import load_settings

load_settings()
