"""The client for any OpenAI-compatible endpoint, through the ``openai`` SDK (imported only when
an LLM call is about to be made: it takes ~0.7 s to import).

Structured output is requested in the strongest form the endpoint accepts, most standard first:
``json_schema`` (strict) → ``json_object`` with a ``schema`` (llama-cpp-python's grammar) →
plain ``json_object`` → prompt only. An endpoint that rejects a form is downgraded once and
remembered. Transient failures (429, 5xx, timeouts, dropped connections) are retried with
exponential backoff (tenacity); anything else becomes one clear ``LLMError``.

Replies are streamed: a reply that starts repeating itself (``loops.loop_start``) is cut off
there (``finish_reason="loop"``) instead of running to its token cap. An endpoint that cannot
stream is asked without streaming from then on.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import openai
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ...errors import LLMError
from ...links import safe_url
from ..base import BaseLLM, Completion, EndpointError, current_seed
from ..loops import loop_start
from ..retry import retrying, tries_made
from ..structured import strict_schema, validation_message
from ..usage import make_usage

MODES = ("json_schema", "json_object_schema", "json_object", "prompt")
CHECK_EVERY = 24  # stream chunks between loop checks
DEADLINE_SLACK_S = 60.0  # a call's tries all end within twice the timeout plus this


def _rejects_streaming(exc: Exception) -> bool:
    """The endpoint refused ``stream``/``stream_options`` (an older or partial server)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 501):
        return False
    msg = str(exc).lower()
    return "stream" in msg


def _rejects_format(exc: Exception) -> bool:
    """The endpoint refused our response_format (not a transient failure)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500, 501):
        return False
    msg = str(exc).lower()
    return "response_format" in msg or "json_schema" in msg or "json_object" in msg


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return (exc.status_code >= 500 or exc.status_code in (408, 409)) and not _rejects_format(exc)
    return False


def _api_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg).strip().splitlines()[0][:200]
    return (exc.message or str(exc)).strip().splitlines()[0][:200]


class OpenAIBackend(BaseLLM):
    def __init__(self, *, base_url: str, api_key: str, model: str | None, cache_id: str,
                 structured: str = "json_schema", timeout: float = 600.0, retries: int = 4,
                 key_env: str | None = "OPENAI_API_KEY", extra_body: dict | None = None,
                 server=None, notice: Callable[[str], None] | None = None):
        self.base_url = base_url.rstrip("/")
        # a query in the base URL (?key=…, ?api-version=…) goes with every request, after the
        # path: the SDK would otherwise append "chat/completions" to the query itself
        parts = urlsplit(self.base_url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True)) or None
        sdk_url = urlunsplit(parts._replace(query="", fragment="")).rstrip("/")
        # the SDK's own retries are off: tenacity below retries with backoff and a clear end.
        # ``timeout`` bounds each wait for bytes (streamed: between tokens), not the whole reply
        self.client = openai.OpenAI(base_url=sdk_url, api_key=api_key, max_retries=0,
                                    default_query=query,
                                    timeout=openai.Timeout(timeout, connect=min(15.0, timeout)))
        self._model = model
        self.model_name = model or "(endpoint default)"
        self.cache_id = cache_id
        self.mode = structured
        self.retries, self.timeout, self.key_env = retries, timeout, key_env
        self.extra_body = extra_body or {}
        self.server = server  # the embedded LocalServer, for better errors if it dies
        self.notice = notice  # hears each retry (the progress display's log)
        self.stream = "usage"  # "usage": stream with a usage chunk; "plain"; "off"
        self._lock = threading.Lock()

    # -- model name -------------------------------------------------------------------------
    def model(self) -> str:
        with self._lock:
            if self._model is None:
                models = self._call(lambda: self.client.models.list())
                ids = [m.id for m in models.data]
                if not ids:
                    raise EndpointError(f"the endpoint {safe_url(self.base_url)} lists no models: "
                                        f"pass --model")
                self._model = self.model_name = ids[0]
            return self._model

    # -- one call ---------------------------------------------------------------------------
    def raw(self, messages: list[dict], *, schema: type[BaseModel] | None, max_tokens: int,
            temperature: float) -> Completion:
        model = self.model()
        while True:
            mode = self.mode
            kwargs = dict(model=model, messages=self._messages(messages, schema, mode),
                          max_tokens=max_tokens, temperature=temperature)
            extra = dict(self.extra_body)
            if (seed := current_seed()) is not None:
                extra["seed"] = seed
            if extra:
                kwargs["extra_body"] = extra
            fmt = self._response_format(schema, mode)
            if fmt is not None:
                kwargs["response_format"] = fmt
            stream = self.stream
            try:
                text, finish, usage, got_model = self._call(
                    lambda kw=kwargs, st=stream: self._once(kw, st))
                break
            except _FormatRejected:
                with self._lock:
                    if self.mode == mode:  # another thread may have downgraded already
                        self.mode = MODES[MODES.index(mode) + 1]
            except _StreamRejected:
                with self._lock:
                    if self.stream == stream:
                        self.stream = {"usage": "plain", "plain": "off"}[stream]
        return Completion(text=text, model=got_model or model,
                          usage=make_usage(model, messages, text, usage), finish_reason=finish)

    def _once(self, kwargs: dict, stream: str) -> tuple[str, str | None, object, str | None]:
        """One request: (text, finish_reason, usage, model). Streamed replies are watched for
        loops and cut off where one starts. The SDK hands back the raw JSON (``cast_to=object``)
        and every field used is checked here (``_Reply``): an endpoint that sends wrong types,
        or not JSON at all, is one ``EndpointError``, never an ``AttributeError`` deep inside."""
        body = {k: v for k, v in kwargs.items() if k != "extra_body"} | kwargs.get("extra_body", {})
        if stream == "off":
            raw = self.client.post("/chat/completions", body=body, cast_to=str)
            reply = self._reply(raw, "chat completion")
            choice = reply.choices[0] if reply.choices else _Choice()
            msg = choice.message or _Message()
            text = msg.content or ""
            if not text and msg.tool_calls:
                fn = msg.tool_calls[0].function
                text = (fn.arguments if fn else None) or ""
            return text, choice.finish_reason, reply.usage_or_none(), reply.model_name()
        if stream == "usage":
            body["stream_options"] = {"include_usage": True}
        response = self.client.post("/chat/completions", body={**body, "stream": True},
                                    cast_to=object, stream=True,
                                    stream_cls=openai.Stream[object])
        parts: list[str] = []
        tool_args: list[str] = []
        finish: str | None = None
        usage: object = None
        model: str | None = None
        checked = chunks = 0
        try:
            for event in _sse_data(response.response):
                chunks += 1
                try:
                    data = json.loads(event)
                except ValueError as exc:  # "data: hello"
                    raise self._malformed("chat completion stream",
                                          f"event {chunks} is not JSON ({exc})") from None
                if isinstance(data, dict) and data.get("error"):
                    err = data["error"]
                    why = err.get("message") if isinstance(err, dict) else err
                    raise LLMError(f"the LLM endpoint {safe_url(self.base_url)} failed while "
                                   f"answering: {_snippet(str(why), 200)}")
                chunk = self._reply(data, "chat completion stream", event=chunks)
                usage = chunk.usage_or_none() or usage
                model = chunk.model_name() or model
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        parts.append(delta.content)
                    for tc in (delta.tool_calls or []) if delta is not None else []:
                        if tc.function is not None and tc.function.arguments:
                            tool_args.append(tc.function.arguments)
                    finish = choice.finish_reason or finish
                if len(parts) - checked >= CHECK_EVERY:
                    checked = len(parts)
                    text = "".join(parts)
                    cut = loop_start(text)
                    if cut is not None:
                        return text[:cut], "loop", None, model
        finally:
            response.close()
        if not chunks:
            raise EndpointError(f"the LLM endpoint {safe_url(self.base_url)} answered, but not "
                                "with a chat completion stream (is the base URL right? It "
                                "usually ends in /v1)")
        return "".join(parts) or "".join(tool_args), finish, usage, model

    def _reply(self, raw: object, what: str, event: int | None = None) -> _Reply:
        """The parts of a reply (or of one stream event) that are used, type-checked."""
        where = f"event {event} " if event is not None else ""
        if isinstance(raw, str):
            text = raw
            try:
                raw = json.loads(text)
            except ValueError:
                raise EndpointError(
                    f"the LLM endpoint {safe_url(self.base_url)} did not answer with a {what} "
                    f"(is the base URL right? It usually ends in /v1); it began: "
                    f"{_snippet(text)!r}") from None
        if not isinstance(raw, dict):
            kind = {str: "string", list: "array", bool: "boolean", int: "number", float: "number",
                    type(None): "null"}.get(type(raw), type(raw).__name__)
            raise self._malformed(what, f"{where or 'the reply '}is a JSON {kind}, not an object")
        try:
            return _Reply.model_validate(raw)
        except ValidationError as exc:
            raise self._malformed(what, where + validation_message(exc)) from None

    def _malformed(self, what: str, why: str) -> EndpointError:
        return EndpointError(f"the LLM endpoint {safe_url(self.base_url)} sent a malformed "
                             f"{what} ({_snippet(why, 160)}): is it OpenAI-compatible?")

    @staticmethod
    def _response_format(schema: type[BaseModel] | None, mode: str) -> dict | None:
        if schema is None or mode == "prompt":
            return None
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {
                "name": schema.__name__, "schema": strict_schema(schema), "strict": True}}
        if mode == "json_object_schema":
            return {"type": "json_object", "schema": schema.model_json_schema()}
        return {"type": "json_object"}

    @staticmethod
    def _messages(messages: list[dict], schema: type[BaseModel] | None, mode: str) -> list[dict]:
        """Without an enforced schema, spell it out in the prompt (validation still follows)."""
        if schema is None or mode in ("json_schema", "json_object_schema"):
            return messages
        note = ("\n\nReply with one JSON object and nothing else, matching this JSON schema:\n"
                + json.dumps(strict_schema(schema)))
        out = [dict(m) for m in messages]
        out[-1]["content"] = str(out[-1]["content"]) + note
        return out

    def _transient(self, exc: BaseException) -> bool:
        # a local server that has died is not coming back: report it now, not after retries
        if self.server is not None and not self.server.alive:
            return False
        return _transient(exc)

    def _call(self, fn):
        # a try may wait ``timeout`` for bytes; no new try that could not end within twice that
        r = retrying(self.retries, self._transient, notice=self.notice,
                     what=f"the LLM endpoint {safe_url(self.base_url)}",
                     deadline_s=2 * self.timeout + DEADLINE_SLACK_S, try_s=self.timeout)
        try:
            for attempt in r:
                with attempt:
                    return fn()
        except openai.APIStatusError as exc:
            if _rejects_format(exc) and self.mode != MODES[-1]:
                raise _FormatRejected() from exc
            if _rejects_streaming(exc) and self.stream != "off":
                raise _StreamRejected() from exc
            raise self._error(exc, tries_made(r)) from None
        except openai.APIError as exc:
            raise self._error(exc, tries_made(r)) from None

    def _error(self, exc: Exception, made: int = 1) -> LLMError:
        where = safe_url(self.base_url)
        if self.server is not None and not self.server.alive:
            return EndpointError(self.server.failure())
        tries = f" after {made} tries" if made > 1 else ""
        if isinstance(exc, openai.AuthenticationError):
            hint = f": check ${self.key_env}" if self.key_env else ""
            return EndpointError(f"the LLM endpoint {where} rejected the API key "
                                 f"(HTTP 401){hint}")
        if isinstance(exc, openai.PermissionDeniedError):
            return EndpointError(f"the LLM endpoint {where} refused access (HTTP 403): "
                                 f"{_api_message(exc)}")
        if isinstance(exc, openai.NotFoundError):
            msg = _api_message(exc)
            if "model" in msg.lower():
                return EndpointError(f"model {self._model!r} is not available at {where}: {msg}")
            return EndpointError(f"{where} has no chat completions API (HTTP 404): is the base "
                                 f"URL right? It usually ends in /v1")
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(f"the LLM endpoint {where} timed out ({self.timeout:.0f} s){tries}")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            why = f": {cause}" if cause else ""
            return EndpointError(f"cannot reach the LLM endpoint {where}{tries}{why}")
        if isinstance(exc, openai.RateLimitError):
            return LLMError(f"the LLM endpoint {where} is rate limiting (HTTP 429){tries}: "
                            f"{_api_message(exc)}")
        if isinstance(exc, openai.APIStatusError):
            return LLMError(f"the LLM endpoint {where} failed (HTTP {exc.status_code}){tries}: "
                            f"{_api_message(exc)}")
        return LLMError(f"the LLM call to {where} failed: {exc}")


class _FormatRejected(Exception):
    """Internal: retry the same call with the next weaker response_format."""


class _StreamRejected(Exception):
    """Internal: retry the same call without stream options, or without streaming."""


def _sse_data(response) -> Iterator[str]:
    """The data of each server-sent event of ``response`` (an httpx response), until
    ``[DONE]``, by the WHATWG rules: comments and other fields are skipped, an event without
    data is not dispatched, several data lines are joined, an unfinished last event is dropped.
    (The SDK's own iterator fails on an empty event, and its JSON error ends the stream.)"""
    http = sys.modules[type(response).__module__.split(".")[0]]  # httpx, as the SDK uses it
    data: list[str] = []
    try:
        for line in response.iter_lines():
            if line:
                if not line.startswith(":"):
                    name, _, value = line.partition(":")
                    if name == "data":
                        data.append(value[1:] if value.startswith(" ") else value)
                continue
            if data:
                event, data = "\n".join(data), []
                if event.startswith("[DONE]"):
                    return
                yield event
    except http.TimeoutException:  # as the SDK reports them: transient, retried
        raise openai.APITimeoutError(request=response.request) from None
    except http.TransportError as exc:
        raise openai.APIConnectionError(request=response.request) from exc


def _snippet(text: str, n: int = 60) -> str:
    return " ".join(str(text).split())[:n]


# What is read from a reply, type-checked (any other field may be anything: endpoints differ).
class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Function(_Part):
    arguments: str | None = None


class _ToolCall(_Part):
    function: _Function | None = None


class _Message(_Part):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(_Part):
    message: _Message | None = None  # a whole reply
    delta: _Message | None = None  # one stream event
    finish_reason: str | None = None


class _PromptDetails(_Part):
    cached_tokens: int | None = None


class _Usage(_Part):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _PromptDetails | None = None


class _Reply(_Part):
    choices: list[_Choice] | None = None
    usage: object = None
    model: object = None

    @field_validator("choices", mode="before")
    @classmethod
    def _no_choices(cls, v):
        return [] if v is None else v

    def usage_or_none(self) -> _Usage | None:
        """Token counts when they are numbers (else they are estimated, not fatal)."""
        if not isinstance(self.usage, dict):
            return None
        try:
            return _Usage.model_validate(self.usage)
        except ValidationError:
            return None

    def model_name(self) -> str | None:
        return self.model if isinstance(self.model, str) and self.model else None
