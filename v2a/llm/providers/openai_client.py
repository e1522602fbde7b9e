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
import threading
from collections.abc import Callable

import openai
from pydantic import BaseModel

from ...errors import LLMError
from ...links import safe_url
from ..base import BaseLLM, Completion, EndpointError
from ..loops import loop_start
from ..retry import retrying
from ..structured import strict_schema
from ..usage import make_usage

MODES = ("json_schema", "json_object_schema", "json_object", "prompt")
CHECK_EVERY = 24  # stream chunks between loop checks


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
        # the SDK's own retries are off: tenacity below retries with backoff and a clear end.
        # ``timeout`` bounds each wait for bytes (streamed: between tokens), not the whole reply
        self.client = openai.OpenAI(base_url=self.base_url, api_key=api_key, max_retries=0,
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
            if self.extra_body:
                kwargs["extra_body"] = self.extra_body
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
        loops and cut off where one starts."""
        if stream == "off":
            resp = self.client.chat.completions.create(**kwargs)
            if not hasattr(resp, "choices"):
                raise EndpointError(f"the LLM endpoint {safe_url(self.base_url)} did not answer "
                                    "with a chat completion (is the base URL right? It usually "
                                    "ends in /v1)")
            choice = resp.choices[0] if resp.choices else None
            text = (choice.message.content or "") if choice else ""
            if choice is not None and not text and getattr(choice.message, "tool_calls", None):
                text = choice.message.tool_calls[0].function.arguments or ""
            return text, getattr(choice, "finish_reason", None), resp.usage, resp.model
        extra = {"stream_options": {"include_usage": True}} if stream == "usage" else {}
        response = self.client.chat.completions.create(  # type: ignore[call-overload]
            **kwargs, stream=True, **extra)
        if not hasattr(response, "__iter__"):
            raise EndpointError(f"the LLM endpoint {safe_url(self.base_url)} did not answer with a "
                                "chat completion stream")
        parts: list[str] = []
        tool_args: list[str] = []
        finish = usage = model = None
        checked = chunks = 0
        try:
            for chunk in response:
                chunks += 1
                usage = getattr(chunk, "usage", None) or usage
                model = getattr(chunk, "model", None) or model
                for choice in getattr(chunk, "choices", None) or []:
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
        try:
            for attempt in retrying(self.retries, self._transient, notice=self.notice,
                                    what=f"the LLM endpoint {safe_url(self.base_url)}",
                                    deadline_s=2 * self.timeout + 60):
                with attempt:
                    return fn()
        except openai.APIStatusError as exc:
            if _rejects_format(exc) and self.mode != MODES[-1]:
                raise _FormatRejected() from exc
            if _rejects_streaming(exc) and self.stream != "off":
                raise _StreamRejected() from exc
            raise self._error(exc) from None
        except openai.APIError as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> LLMError:
        where = safe_url(self.base_url)
        if self.server is not None and not self.server.alive:
            return EndpointError(self.server.failure())
        tries = f" after {self.retries + 1} tries" if self.retries else ""
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
