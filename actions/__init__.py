"""Rasa custom actions, one module per topic. The action server imports this package."""
