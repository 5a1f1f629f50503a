"""Questions handed from the bot to a person: tickets and the photos, voice and files farmers send with them."""
