"""The web app where editors review, fix and publish the draft — a leaf no stage imports.

``service`` (every editor action), ``page`` (the page), ``app`` and ``routes`` (the FastAPI app,
one router per concern), ``server`` (uvicorn on a loopback socket), ``command`` (``v2a review``,
``v2a publish``). What editors change lives in ``v2a.edits``.
"""
