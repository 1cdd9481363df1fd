"""Stage 1a, reading: the exports folder's files into canonical records, naming every problem."""
