"""Stage 3b, presenting: the context, wording, charts, paper, workbooks, packs and artifacts."""
