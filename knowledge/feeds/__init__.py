"""Price feeds: price files fetched on a schedule from a folder under var/ or an allowed HTTP(S) URL, imported all or
nothing like an officer's file (knowledge.files.prices), each run recorded with its outcome and reasons."""
