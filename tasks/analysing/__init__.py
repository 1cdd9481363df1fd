"""Stage 2, analysing: the committee's rules, SPC, benchmarks, breakdowns and deep dives."""
