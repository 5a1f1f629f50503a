"""The push outbox: which messages are due to farmers, and claiming and settling them exactly once."""
