"""`briefing init`: a first config drafted from a council's own exports, read as a run
reads them."""
