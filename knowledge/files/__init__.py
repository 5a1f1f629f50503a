"""Officers' files: reading and writing CSV and Excel tables, and importing and exporting prices and articles."""
