"""``v2a batch``: a whole playlist/feed into articles plus a searchable static site.

plan.py lists and filters the entries, state.py keeps batch.json (resume, failure isolation),
runner.py overlaps media and LLM work across videos, site.py builds the MkDocs site,
command.py is the CLI.
"""
