"""What a run is set up with: the environment, the YAML config, reporting periods, the
committee calendar, and how each unit's numbers are written (every stage reads these)."""
