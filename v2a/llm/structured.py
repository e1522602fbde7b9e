"""Structured replies: the JSON schema shapes servers accept, and tolerant parsing."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def strict_schema(schema: type[BaseModel]) -> dict:
    """JSON schema in the shape OpenAI's strict mode accepts (all keys required, no extras)."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            # "title"/"default" are schema annotations, except as *names* under "properties"
            props = node.get("properties")
            node = {k: fix(v) for k, v in node.items()
                    if k not in ("title", "default", "properties")}
            if isinstance(props, dict):
                node["properties"] = {name: fix(sub) for name, sub in props.items()}
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            return node
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(schema.model_json_schema())


def parse_structured(text: str, schema: type[BaseModel]) -> BaseModel:
    """Validate a reply; tolerate code fences and prose around one JSON object."""
    body = _FENCE.sub("", text.strip())
    try:
        return schema.model_validate_json(body)
    except ValidationError as first:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end and (start, end) != (0, len(body) - 1):
            try:
                return schema.model_validate_json(body[start:end + 1])
            except ValidationError:
                pass
        raise first


def validation_message(exc: ValidationError) -> str:
    """A compact, model-readable list of what was wrong."""
    parts = []
    for e in exc.errors()[:6]:
        loc = ".".join(str(x) for x in e["loc"]) or "(root)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)
