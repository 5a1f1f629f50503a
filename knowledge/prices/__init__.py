"""Price records: answering price questions, and checking and saving prices entered by hand or from files."""
