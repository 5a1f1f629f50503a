"""The knowledge base: the one data layer that actions, gateway, console and CLI use."""
