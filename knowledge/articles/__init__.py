"""Policy and insurance articles: searching them for a farmer's question, and checking and saving entries."""
