"""LangChain adapter (optional extra) for providers that are not OpenAI-compatible.

``--llm-provider langchain --model anthropic:claude-3-5-haiku-latest`` goes through
``init_chat_model``; structured output uses a forced tool call (``function_calling``), which
works across providers and with llama-cpp-python's server, and is validated like every reply.
"""

from __future__ import annotations

import json
import os

from pydantic import BaseModel

from ...config import Config
from ...errors import LLMError
from ...hookspecs import hookimpl
from ...progress import Progress
from ..base import BaseLLM, Completion, EndpointError, LLMHandle, Target
from ..retry import retrying
from ..usage import make_usage


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    if code is None:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


def _transient(exc: BaseException) -> bool:
    code = _status(exc)
    if code is not None:
        return code in (408, 409, 429) or code >= 500
    name = type(exc).__name__.lower()
    return any(w in name for w in ("timeout", "connection", "ratelimit", "overloaded"))


class _Usage:
    def __init__(self, meta: dict | None):
        meta = meta or {}
        self.prompt_tokens = meta.get("input_tokens")
        self.completion_tokens = meta.get("output_tokens")


class LangChainBackend(BaseLLM):
    def __init__(self, config, target):
        try:
            from langchain.chat_models import init_chat_model
        except ImportError:
            raise EndpointError("--llm-provider langchain needs the extra: "
                                "pip install 'v2a[langchain]' (plus the provider's package, "
                                "e.g. langchain-anthropic)") from None
        kwargs: dict = {"timeout": config.llm_timeout, "max_retries": 0}
        if config.llm_base_url:
            kwargs["base_url"] = config.llm_base_url
        key = os.environ.get(config.api_key_env)
        if key:
            kwargs["api_key"] = key
        try:
            self.chat = init_chat_model(config.llm_model, **kwargs)
        except ImportError as exc:
            raise EndpointError(f"--model {config.llm_model}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - provider validation errors are user errors
            raise EndpointError(f"cannot set up {config.llm_model} with LangChain: "
                                f"{str(exc).splitlines()[0][:200]}") from None
        self.model_name, self.cache_id = target.model_name, target.cache_id
        self.retries = config.llm_retries

    def raw(self, messages: list[dict], *, schema: type[BaseModel] | None, max_tokens: int,
            temperature: float) -> Completion:
        chat = self.chat.bind(max_tokens=max_tokens, temperature=temperature)
        runnable = chat
        if schema is not None:
            runnable = chat.with_structured_output(schema.model_json_schema(),
                                                   method="function_calling", include_raw=True)
        try:
            for attempt in retrying(self.retries, _transient):
                with attempt:
                    out = runnable.invoke(messages)
        except Exception as exc:  # noqa: BLE001 - every provider has its own exception types
            raise self._error(exc) from None
        msg = out["raw"] if schema is not None else out
        if schema is not None and getattr(msg, "tool_calls", None):
            text = json.dumps(msg.tool_calls[0]["args"], ensure_ascii=False)
        else:
            content = msg.content
            text = content if isinstance(content, str) else "".join(
                b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
        return Completion(text=text, model=self.model_name,
                          usage=make_usage(self.model_name, messages, text,
                                           _Usage(getattr(msg, "usage_metadata", None))))

    def _error(self, exc: Exception) -> LLMError:
        code = _status(exc)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        if code in (401, 403):
            return EndpointError(f"{self.model_name} rejected the API key (HTTP {code})")
        if code == 404:
            return EndpointError(f"{self.model_name} not found (HTTP 404): {first}")
        if _transient(exc) and code is None:
            return EndpointError(f"cannot reach {self.model_name}: {first}")
        return LLMError(f"{self.model_name} failed{f' (HTTP {code})' if code else ''}: {first}")


class LangChainProvider:
    """``--llm-provider langchain --model provider:model``."""

    name = "langchain"

    def target(self, config: Config) -> Target:
        if not config.llm_model:
            raise EndpointError("--llm-provider langchain needs --model provider:model "
                                "(e.g. anthropic:claude-3-5-haiku-latest)")
        base = config.llm_base_url
        return Target(self.name, config.llm_model,
                      f"langchain:{config.llm_model}@{base or ''}", base)

    def open(self, config: Config, target: Target, progress: Progress) -> LLMHandle:
        return LLMHandle(llm=LangChainBackend(config, target), base_url=target.base_url,
                         model_name=target.model_name, kind=self.name)


@hookimpl
def register_llm_providers(register):
    register("langchain", LangChainProvider())
