"""The messenger gateway: Telegram and the web chat in front of Rasa's REST channel."""
