"""Names questions and entries are resolved against: products, regions, markets, units, and the NLU vocabulary."""
