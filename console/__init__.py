"""The web console for village information officers and reviewing staff."""
