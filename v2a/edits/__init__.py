"""The editors' layer: human work kept apart from generated text, below the stages that use it.

``models`` (``review.json``), ``store`` (atomic, locked, revisioned), ``structure`` (the editor's
splits and merges, applied over any outline by the outline stage), ``overlay`` (edits over the
generated draft; overrides for the render stage), ``diff`` (word diffs of an edit). The web app
(``v2a.review``) sits on top of it; no stage imports the app.
"""
