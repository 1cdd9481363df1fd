"""Stage 1b, checking: the records against the catalogue, the cycle and each other."""
