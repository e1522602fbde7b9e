"""The review app's routes, one ``APIRouter`` per concern. A new concern is a module here with a
``router``, added to ``ROUTERS``; its handlers take the hub through ``deps.Hub``.

``pages`` (index, review page, static), ``media`` (media file, keyframes), ``sections`` (read,
save and act on one section), ``structure`` (split, merge), ``transcript`` (line and term fixes),
``publish``, ``checks`` (the doubts and the editor's decisions), ``book`` (the batch's book:
its page, build, publish, files). ``LAST`` is matched after all of them (a catch-all for unknown
section actions).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import book, checks, media, pages, publish, sections, structure, transcript

ROUTERS: tuple[APIRouter, ...] = (pages.router, media.router, sections.router, structure.router,
                                  transcript.router, publish.router, checks.router, book.router)
LAST: tuple[APIRouter, ...] = (sections.unknown,)
