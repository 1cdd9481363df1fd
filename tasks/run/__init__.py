"""A run's steps, one module per stage (inputs, analysis, papers, publishing, delivery), and
the one sequence that runs them (cycle); regional: one authority's run in a regional one."""
