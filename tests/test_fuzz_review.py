"""API fuzzing of the review app from its own OpenAPI schema (Schemathesis), over real HTTP to
the app served on loopback: no request may get a 5xx or a traceback, and every generated
request is refused (403) without the token, from a foreign Host, or — for a change — without
the page's CSRF header.

The schema is the app's (``create_app(...).openapi()``), narrowed only where a free string
would make nearly every request a 404: the video id is this folder's, section keys and actions
are mostly real ones. Bounded: ``FUZZ_EXAMPLES`` examples per operation."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.render import synthetic_workdir
from tests.fixtures.review import hub_for
from v2a.llm.scripted import scripted_handle
from v2a.review.app import create_app
from v2a.review.guard import csrf_for
from v2a.review.server import serve_in_thread

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ACTIONS = ["status", "restore", "keep-edit", "take-generated", "dismiss-stale", "regenerate",
           "accept", "discard", "comment", "resolve", "split", "merge"]
RUN = {"examples": 0, "requests": 0}
ANY_NUMBER = {"type": "number"}
FIELDS = {"rev": {"type": "integer", "minimum": -1, "maximum": 5},
          "title": {"type": "string"}, "markdown": {"type": "string"},
          "images": {"type": "array", "items": {"type": "string"}},
          "editor": {"type": "string"},
          "status": {"type": "string", "enum": ["draft", "reviewed", "approved", "x"]},
          "n": {"type": "integer"}, "instruction": {"type": "string"},
          "id": {"type": "string"}, "time": ANY_NUMBER, "text": {"type": "string"},
          "done": {"type": "boolean"}, "segment": {"type": "integer"},
          "find": {"type": "string"}, "replace": {"type": "string"},
          "remember": {"type": "boolean"}, "force": {"type": "boolean"}}


def narrowed(schema: dict, vid: str) -> dict:
    """The app's schema with its path parameters pointed at this folder's things."""
    for ops in schema["paths"].values():
        for op in ops.values():
            for p in op.get("parameters", []):
                name = p["name"]
                if name == "vid":
                    p["schema"] = {"type": "string", "enum": [vid]}  # "nope": in test_review
                elif name == "key":
                    p["schema"] = {"type": "string", "enum": ["0", "6", "12", "0", "6", "12",
                                                              "3", "x/../0"]}
                elif name == "action":
                    p["schema"] = {"type": "string", "enum": [*ACTIONS, "bogus"]}
                elif name == "rel":
                    p["schema"] = {"type": "string", "enum": [
                        "keyframes/scene-000.jpg", "../source.json", "keyframes/../run.json",
                        "keyframes/%2e%2e/source.json", "/etc/passwd", "keyframes/"]}
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:  # bodies are free objects: fuzz the fields the app reads,
                # each with a plausible value or any JSON at all
                body["schema"] = {"type": "object", "minProperties": 1,
                                  "additionalProperties": False, "properties": {
                                      k: {"anyOf": [v, {}]} for k, v in FIELDS.items()}}
    return schema


@pytest.fixture(scope="module")
def served_app(tmp_path_factory):
    ws = synthetic_workdir(tmp_path_factory.mktemp("fuzz-review") / "w")
    hub = hub_for(ws.root, llm_handle=scripted_handle(default="A new text, written again."))
    with serve_in_thread(hub) as s:
        yield s, hub
    hub.close()
    out = os.environ.get("V2A_FUZZ_COUNTS")
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps({"review examples": RUN["examples"],
                                 "review requests (with the refused ones)": RUN["requests"]})
                     + "\n")


def operations() -> list:
    """The app's operations, from its OpenAPI schema (built on a throwaway folder: the schema
    does not depend on it)."""
    import tempfile
    from pathlib import Path

    ws = synthetic_workdir(Path(tempfile.mkdtemp(prefix="v2a-schema-")) / "w")
    hub = hub_for(ws.root)
    schema = schemathesis.openapi.from_dict(narrowed(create_app(hub, "t", 1).openapi(),
                                                     next(iter(hub.videos))))
    return [r.ok() for r in schema.get_all_operations()]


OPERATIONS = operations()
# each section action is a route of its own (fuzzed as one); the catch-all after them answers
# any other action name, fuzzed with one that no router has
TARGETS = [(o, a) for o in OPERATIONS for a in (["bogus"] if "{action}" in o.path else [None])]


# Schemathesis's own pytest plugin does not run under pytest 9 ('_nodeid'): its strategies are
# driven by Hypothesis directly, one test per operation.
@pytest.mark.parametrize("op, action", TARGETS, ids=[
    f"{o.method.upper()} {o.path.replace('{action}', a or '{action}')}" for o, a in TARGETS])
def test_no_request_breaks_the_app_and_every_one_needs_the_guards(op, action, served_app):
    s, hub = served_app
    assert list(hub.videos) == ["w"]  # the id the schema was narrowed to (same folder name)

    @settings(max_examples=EXAMPLES, deadline=timedelta(seconds=10),
              derandomize=not os.environ.get("FUZZ_RANDOM"),
              suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy(), body=BODIES, current=st.integers(0, 3))
    def check(case, body, current):
        if isinstance(case.body, dict):  # the schema says "an object": fill in what is read
            case.body = body
        key = (case.path_parameters or {}).get("key")
        if current and key and isinstance(case.body, dict):
            # a change on the section's current revision, so it gets past the 409
            case.body["rev"] = current_rev(s, key)
        if action:
            case.path_parameters["action"] = action
        one_request(case, s)

    check()


JSON = st.recursive(st.none() | st.booleans() | st.integers()
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                    lambda ch: st.lists(ch, max_size=3) | st.dictionaries(st.text(max_size=4), ch,
                                                                          max_size=3),
                    max_leaves=6)
TYPED = {"rev": st.integers(-1, 4), "title": st.text(max_size=30),
         "markdown": st.text(max_size=200), "images": st.lists(st.sampled_from(
             ["keyframes/scene-000.jpg", "keyframes/scene-001.jpg", "../source.json"]),
             max_size=2), "editor": st.text(max_size=50),
         "status": st.sampled_from(["draft", "reviewed", "approved", "x"]),
         "n": st.integers(-2, 5), "instruction": st.text(max_size=40),
         "id": st.text(max_size=12), "time": st.floats(-10, 1e4), "text": st.text(max_size=40),
         "done": st.booleans(), "segment": st.integers(-1, 20), "find": st.text(max_size=12),
         "replace": st.text(max_size=12), "remember": st.booleans(), "force": st.booleans()}
# each field the app reads: absent, a plausible value, or any JSON at all
BODIES = st.fixed_dictionaries({}, optional={k: v | JSON for k, v in TYPED.items()})


def current_rev(s, key: str) -> int:
    r = requests.get(f"{s.base}/api/v/w/sections/{key}",
                     headers={"Authorization": f"token {s.token}"}, timeout=30)
    return r.json()["section"]["rev"] if r.status_code == 200 else 0


def one_request(case, s) -> None:
    auth = {"Authorization": f"token {s.token}", "X-V2A-CSRF": csrf_for(s.token)}
    RUN["examples"] += 1
    RUN["requests"] += 1
    res = case.call(base_url=s.base, session=requests.Session(), headers=auth,
                    allow_redirects=False)
    text = res.content.decode("utf-8", "replace")  # keyframes are JPEG
    assert res.status_code < 500, (case.method, case.formatted_path, res.status_code, text)
    assert "Traceback" not in text and 'File "' not in text, text
    # the same request without the token, from another Host, or without CSRF: refused
    refused = [case.call(base_url=s.base, session=requests.Session(), allow_redirects=False,
                         headers={"X-V2A-CSRF": csrf_for(s.token)}),
               case.call(base_url=s.base, session=requests.Session(), allow_redirects=False,
                         headers={**auth, "Host": "evil.test"})]
    if case.method.upper() not in ("GET", "HEAD", "OPTIONS"):
        refused.append(case.call(base_url=s.base, session=requests.Session(),
                                 allow_redirects=False,
                                 headers={"Authorization": auth["Authorization"]}))
    RUN["requests"] += len(refused)
    for r in refused:
        assert r.status_code == 403, (case.method, case.formatted_path, r.status_code)


@pytest.mark.parametrize("path, body", [
    ("sections/0/restore", {"rev": 0, "n": None}),
    ("sections/0/restore", {"rev": 0, "n": "x"}),
    ("sections/0/comment", {"time": "x", "text": "hi"}),
    ("sections/0/comment", {"time": [1], "text": "hi"}),
    ("sections/0/split", {"rev": 0, "segment": {}}),
    ("sections/0/status", {"rev": 1e400}),
])
def test_what_the_fuzzer_found_is_a_400(served_app, path, body):
    """Found by the fuzzer above: a wrong-typed field was a 500 (TypeError in the handler)."""
    s, _hub = served_app
    r = requests.post(f"{s.base}/api/v/w/{path}", data=json.dumps(body).replace("Infinity",
                                                                                 "1e400"),
                      headers={"Authorization": f"token {s.token}",
                               "X-V2A-CSRF": csrf_for(s.token),
                               "Content-Type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500 and "error" in r.json(), r.text
