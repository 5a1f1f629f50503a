"""The people the store knows: console accounts and their roles, and farmers behind a chat."""
