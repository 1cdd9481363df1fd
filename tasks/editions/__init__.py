"""Stage 3a, editions: what the public and the restricted edition may each show."""
