"""The one retry policy for LLM calls: transient failures back off exponentially, with jitter,
and each retry is announced (what failed, which try comes next, after how long)."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

INITIAL_WAIT_S = 1.0
MAX_WAIT_S = 30.0
JITTER_S = 1.0


class _PastDeadline(stop_base):
    """No new try that could not end by the deadline: a try may take ``try_s`` (a hung endpoint
    takes all of it), so the whole call ends within ``deadline_s`` plus nothing."""

    def __init__(self, deadline_s: float, try_s: float):
        self.deadline_s, self.try_s = deadline_s, try_s

    def __call__(self, state: RetryCallState) -> bool:
        return (state.seconds_since_start or 0.0) + state.upcoming_sleep + self.try_s > self.deadline_s


def retrying(retries: int, transient: Callable[[BaseException], bool],
             notice: Callable[[str], None] | None = None, what: str = "the LLM call",
             deadline_s: float | None = None, try_s: float = 0.0) -> Retrying:
    """``retries`` more tries after the first, for exceptions ``transient`` accepts, and no new
    try that could not end by ``deadline_s`` (each try may last ``try_s``): a hung endpoint is
    not waited on five times over. ``notice`` hears a line before each wait ("retry 2 of 5 in
    4 s: timed out"). ``tries_made(r)`` says how many tries there were."""

    def announce(state: RetryCallState) -> None:
        if notice is None or state.outcome is None:
            return
        exc = state.outcome.exception()
        why = " ".join(str(exc).split())[:120] if exc else "failed"
        wait = state.next_action.sleep if state.next_action else 0.0
        notice(f"{what} failed ({type(exc).__name__}: {why}); retry {state.attempt_number + 1} "
               f"of {retries + 1} in {wait:.0f} s")

    stop: stop_base = stop_after_attempt(retries + 1)
    if deadline_s is not None:
        stop = stop | stop_after_delay(deadline_s) | _PastDeadline(deadline_s, try_s)
    return Retrying(stop=stop,
                    wait=wait_exponential_jitter(multiplier=INITIAL_WAIT_S, max=MAX_WAIT_S,
                                                 jitter=JITTER_S),
                    retry=retry_if_exception(transient), reraise=True, before_sleep=announce)


def tries_made(r: Retrying) -> int:
    """How many tries ``r`` made (in this thread): the number an error message may state."""
    return int(r.statistics.get("attempt_number", 1))
