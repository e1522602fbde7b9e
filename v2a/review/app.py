"""The review web app (FastAPI): pages, files and a small JSON API over ``ReviewSession``.

The app holds its hub and access secrets on ``app.state``; the guard (``guard.py``) checks every
request; the routes (``routes/``) are one router per concern and reach the hub through a
dependency, never a closure.
"""

from __future__ import annotations

from fastapi import FastAPI

from ..errors import V2AError
from .guard import Access, guard, on_error, on_os_error
from .hub import ReviewHub
from .routes import LAST, ROUTERS


def create_app(hub: ReviewHub, token: str, port: int, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The app for ``hub``; ``hosts``: names it may be reached by besides the loopback ones."""
    app = FastAPI(title="v2a review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = hub
    app.state.access = Access.of(token, port, hosts)
    app.middleware("http")(guard)
    app.exception_handler(OSError)(on_os_error)
    app.exception_handler(V2AError)(on_error)
    for router in (*ROUTERS, *LAST):
        app.include_router(router)
    return app
