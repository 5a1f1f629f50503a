"""Farmers' personal data: kept only as long as PERSONAL_DATA_RETENTION_DAYS (retention), and deleted at once when
a farmer asks (forgetting), in the knowledge DB and in Rasa's tracker store."""
