"""The built-in subcommands that live in their own packages, registered through
``register_commands`` exactly as an installed package registers its own (``v2a.cli`` adds them
after the commands it defines itself)."""

from __future__ import annotations

from .hookspecs import Register, hookimpl


@hookimpl
def register_commands(register: Register) -> None:
    # imported when the command line is built, not when the plugins are listed
    from .batch.command import batch
    from .book.command import book
    from .checks.command import check
    from .review.command import publish, review

    for command in (batch, book, check, review, publish):
        register(command.__name__, command)
