"""Editors review, fix and publish the draft: human edits kept apart from generated text.

``models`` (review.json), ``store`` (atomic, locked, revisioned), ``structure`` (the editor's
splits and merges, applied over any outline), ``overlay`` (edits over the generated draft),
``service`` (every editor action), ``app`` (the web app), ``command`` (``v2a review``,
``v2a publish``).
"""
