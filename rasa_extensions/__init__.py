"""Extensions loaded by the Rasa server itself (named in credentials.yml), not by our own processes."""
