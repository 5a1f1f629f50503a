"""Conversations: reading Rasa's tracker store (read-only), reviewers' state, the dashboard's figures."""
