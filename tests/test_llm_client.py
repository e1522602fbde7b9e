"""LLM client: error messages, retries, structured-output validation, usage, cache.

Error handling is checked against a closed port (real) and a scripted fake endpoint (401, 404,
429, garbage); the real model is exercised in test_outline/test_write/test_llm_server.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.fixtures.llm import chat_reply
from v2a.config import Config
from v2a.errors import LLMError, V2AError
from v2a.llm.base import EndpointError, OutputError, sampling_seed
from v2a.llm.cache import LLMCache
from v2a.llm.cached import CachedLLM
from v2a.llm.open import describe, open_llm
from v2a.llm.structured import parse_structured, strict_schema
from v2a.llm.usage import cost, count_tokens, make_usage


class Pick(BaseModel):
    model_config = {"extra": "forbid"}
    name: str
    n: int


MSG = [{"role": "user", "content": "hi"}]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remote(base_url: str, **kw) -> Config:
    return Config(llm_base_url=base_url, llm_model=kw.pop("model", "fake-model"),
                  llm_retries=kw.pop("retries", 1), **kw)


def test_unreachable_endpoint_is_one_clear_error():
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with open_llm(remote(url, retries=0)) as h:
        with pytest.raises(EndpointError) as ei:
            h.llm.complete(MSG, max_tokens=5, temperature=0)
    msg = str(ei.value)
    assert msg.startswith(f"cannot reach the LLM endpoint {url}") and "\n" not in msg


def test_wrong_api_key_is_one_clear_error(fake_endpoint, monkeypatch):
    def reply(body, n, headers):
        if headers.get("Authorization") != "Bearer right":
            return 401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
        return 200, chat_reply("ok")

    fake = fake_endpoint(reply)
    monkeypatch.setenv("MY_KEY", "wrong")
    with open_llm(remote(fake.base_url, api_key_env="MY_KEY")) as h:
        with pytest.raises(EndpointError, match=r"rejected the API key \(HTTP 401\): check \$MY_KEY"):
            h.llm.complete(MSG, max_tokens=5, temperature=0)
    assert len(fake.bodies) == 1  # 401 is never retried
    monkeypatch.setenv("MY_KEY", "right")
    with open_llm(remote(fake.base_url, api_key_env="MY_KEY")) as h:
        assert h.llm.complete(MSG, max_tokens=5, temperature=0).text == "ok"


def test_missing_model_is_one_clear_error(fake_endpoint):
    fake = fake_endpoint(lambda b, n, h: (404, {"error": {
        "message": f"The model `{b['model']}` does not exist", "code": "model_not_found"}}))
    with open_llm(remote(fake.base_url, model="nope-7b")) as h:
        with pytest.raises(EndpointError, match=r"model 'nope-7b' is not available at"):
            h.llm.complete(MSG, max_tokens=5, temperature=0)


def test_rate_limit_and_5xx_are_retried_with_backoff(fake_endpoint):
    fake = fake_endpoint(lambda b, n, h: (429, {"error": {"message": "slow down"}}) if n == 1
                         else (503, {"error": {"message": "busy"}}) if n == 2
                         else (200, chat_reply("fine")))
    with open_llm(remote(fake.base_url, retries=2)) as h:
        assert h.llm.complete(MSG, max_tokens=5, temperature=0).text == "fine"
    assert len(fake.bodies) == 3
    fake2 = fake_endpoint(lambda b, n, h: (429, {"error": {"message": "quota"}}))
    with open_llm(remote(fake2.base_url, retries=1)) as h:
        with pytest.raises(LLMError, match=r"rate limiting \(HTTP 429\) after 2 tries: quota"):
            h.llm.complete(MSG, max_tokens=5, temperature=0)


def test_structured_output_is_requested_strict_and_validated(fake_endpoint):
    replies = iter(['```json\n{"name": "a", "n": 3}\n```', '{"name": "a"}'])
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply(next(replies))))
    with open_llm(remote(fake.base_url)) as h:
        ok = h.llm.complete(MSG, schema=Pick, max_tokens=20, temperature=0)
        assert ok.parsed == Pick(name="a", n=3)
        with pytest.raises(OutputError) as ei:
            h.llm.complete(MSG, schema=Pick, max_tokens=20, temperature=0)
    assert "n: Field required" in ei.value.detail and ei.value.text == '{"name": "a"}'
    fmt = fake.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False


def test_endpoint_rejecting_json_schema_is_downgraded_once(fake_endpoint):
    """llama-cpp-python's server answers json_schema with HTTP 500; we fall back to its
    grammar form (json_object + schema) and remember it."""
    def reply(body, n, headers):
        if body.get("response_format", {}).get("type") == "json_schema":
            return 500, {"error": {"message": "Input should be 'text' or 'json_object'"}}
        return 200, chat_reply('{"name": "b", "n": 1}')

    fake = fake_endpoint(reply)
    with open_llm(remote(fake.base_url)) as h:
        for _ in range(2):
            assert h.llm.complete(MSG, schema=Pick, max_tokens=20, temperature=0).parsed.n == 1
    kinds = [b["response_format"]["type"] for b in fake.bodies]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert fake.bodies[1]["response_format"]["schema"]["required"] == ["name", "n"]


def test_parse_structured_tolerates_prose_around_json():
    assert parse_structured('Sure! {"name": "x", "n": 2} Hope this helps', Pick).n == 2
    s = strict_schema(Pick)
    assert s["required"] == ["name", "n"] and "title" not in s


def test_usage_from_api_or_estimated_and_priced():
    class U:
        prompt_tokens, completion_tokens, prompt_tokens_details = 1000, 500, None

    u = make_usage("gpt-4o-mini-2024-07-18", MSG, "x", U())
    assert (u.prompt_tokens, u.completion_tokens, u.estimated) == (1000, 500, False)
    assert u.cost_usd == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    est = make_usage("some-local-model", MSG, "hello world", None)
    assert est.estimated and est.completion_tokens == count_tokens("hello world") == 2
    assert est.cost_usd is None  # unpriced model: no made-up cost
    assert cost("qwen2.5-coder-1.5b", 10_000, 10_000) == 0.0


def test_cache_serves_repeats_without_calling(fake_endpoint, tmp_path):
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply(f"answer {n}")))
    with open_llm(remote(fake.base_url)) as h:
        llm = CachedLLM(h.llm, LLMCache(tmp_path))
        a = llm.complete(MSG, max_tokens=5, temperature=0, tag={"t": "1"})
        b = llm.complete(MSG, max_tokens=5, temperature=0, tag={"t": "1"})
        c = llm.complete(MSG, max_tokens=5, temperature=0, tag={"t": "2"})  # template changed
    assert (a.text, b.text, c.text) == ("answer 1", "answer 1", "answer 2")
    assert (a.cached, b.cached) == (False, True) and b.usage.cached_calls == 1
    assert len(fake.bodies) == 2


def test_a_sampling_seed_reaches_the_endpoint_only_inside_its_block(fake_endpoint):
    fake = fake_endpoint(lambda b, n, h: (200, chat_reply(f"answer {n}")))
    with open_llm(remote(fake.base_url)) as h:
        h.llm.complete(MSG, max_tokens=5, temperature=0.7)
        with sampling_seed(1234):
            h.llm.complete(MSG, max_tokens=5, temperature=0.7)
        h.llm.extra_body = {"seed": 0}  # what the embedded server is asked for
        h.llm.complete(MSG, max_tokens=5, temperature=0.7)
        with sampling_seed(99):
            h.llm.complete(MSG, max_tokens=5, temperature=0.7)
    assert [b.get("seed") for b in fake.bodies] == [None, 1234, 0, 99]


def test_config_mistakes_fail_before_any_work(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(EndpointError, match="needs an endpoint"):
        describe(Config(llm_model="gpt-4o-mini"))
    with pytest.raises(V2AError, match="neither a packaged model"):
        describe(Config(local_model="/nonexistent/model.gguf"))
    t = describe(Config())
    assert t.embedded and t.model_name == "qwen2.5-coder-1.5b"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    t = describe(Config(llm_model="gpt-4o-mini"))
    assert t.base_url == "https://api.openai.com/v1" and not t.embedded


def test_cli_reports_llm_errors_in_one_line(lecture_media, tmp_path):
    """The whole CLI: an unreachable endpoint ends in one 'error:' line, no traceback."""
    import shutil

    wd = tmp_path / "ws"
    shutil.copytree(lecture_media, wd)
    src = json.loads((wd / "source.json").read_text())["input"]
    url = f"http://127.0.0.1:{closed_port()}/v1"
    cli = Path(__file__).resolve().parent.parent / "cli.py"
    r = subprocess.run([sys.executable, str(cli), "run", src, "--workdir", str(wd), "-q",
                        "--llm-base-url", url, "--model", "m"], capture_output=True, text=True,
                       timeout=300, input="")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errs) == 1 and f"cannot reach the LLM endpoint {url}" in r.stderr


def test_langchain_provider_plumbing_and_errors(fake_endpoint, monkeypatch):
    """The optional LangChain adapter: usage comes through, tool-call structured output is
    validated, and an unreachable endpoint is one clear message."""
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("OPENAI_API_KEY", "x")

    def reply(body, n, headers):
        if body.get("tools"):
            msg = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "c1", "type": "function", "function": {
                    "name": body["tools"][0]["function"]["name"],
                    "arguments": json.dumps({"name": "z", "n": 4})}}]}
            out = chat_reply("")
            out["choices"][0]["message"] = msg
            return 200, out
        return 200, chat_reply("plain")

    fake = fake_endpoint(reply)
    cfg = Config(llm_provider="langchain", llm_model="openai:fake-model",
                 llm_base_url=fake.base_url, llm_retries=0)
    with open_llm(cfg) as h:
        c = h.llm.complete(MSG, max_tokens=5, temperature=0)
        assert c.text == "plain" and c.usage.prompt_tokens == 10 and not c.usage.estimated
        assert h.llm.complete(MSG, schema=Pick, max_tokens=20, temperature=0).parsed.n == 4
    assert 5 in (fake.bodies[0].get("max_tokens"), fake.bodies[0].get("max_completion_tokens"))
    url = f"http://127.0.0.1:{closed_port()}/v1"
    with open_llm(cfg.model_copy(update={"llm_base_url": url})) as h:
        with pytest.raises(EndpointError, match="cannot reach"):
            h.llm.complete(MSG, max_tokens=5, temperature=0)


def test_a_looping_stream_is_cut_off_early(tmp_path):
    """A reply that repeats itself is cut off while it streams: the client stops reading long
    before the server would have reached the token cap."""
    import http.server
    import threading
    import time

    from v2a.llm.providers.openai_client import OpenAIBackend

    sent = []

    class Drip(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            words = ["We", " count", " pairs."] + [" The merge replaces the pair."] * 400
            try:
                for w in words:
                    ev = {"id": "x", "object": "chat.completion.chunk", "created": 0,
                          "model": "drip", "choices": [{"index": 0, "delta": {"content": w},
                                                        "finish_reason": None}]}
                    data = f"data: {json.dumps(ev)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    sent.append(w)
                    time.sleep(0.01)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        llm = OpenAIBackend(base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
                            api_key="x", model="drip", cache_id="drip", retries=0)
        t0 = time.monotonic()
        c = llm.raw([{"role": "user", "content": "hi"}], schema=None, max_tokens=4000,
                    temperature=0)
        elapsed = time.monotonic() - t0
    finally:
        srv.shutdown()
        srv.server_close()
    assert c.finish_reason == "loop"
    assert c.text == "We count pairs. The merge replaces the pair."
    assert elapsed < 2.0 and len(sent) < 150, (elapsed, len(sent))  # all 403 would take > 4 s
    assert c.usage.estimated  # the usage chunk never came: counted from the text
