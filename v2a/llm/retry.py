"""The one retry policy for LLM calls: transient failures back off exponentially, with jitter."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

INITIAL_WAIT_S = 1.0
MAX_WAIT_S = 30.0
JITTER_S = 1.0


def retrying(retries: int, transient: Callable[[BaseException], bool]) -> Retrying:
    """``retries`` more tries after the first, for exceptions ``transient`` accepts."""
    return Retrying(stop=stop_after_attempt(retries + 1),
                    wait=wait_exponential_jitter(multiplier=INITIAL_WAIT_S, max=MAX_WAIT_S,
                                                 jitter=JITTER_S),
                    retry=retry_if_exception(transient), reraise=True)
