"""``--llm-provider openai`` (the default): any OpenAI-compatible endpoint — OpenAI, Ollama, vLLM,
LM Studio, llama.cpp servers — and, with no endpoint configured, the embedded local model, which
v2a serves the same way. The SDK client lives in ``openai_client`` and is imported on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from ...hookspecs import hookimpl
from ...links import safe_url
from ..base import EndpointError, LLMHandle, Target
from ..local.options import EmbeddedOptions

if TYPE_CHECKING:
    from ...config import Config
    from ...progress import Progress

OPENAI_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


def _host(url: str | None) -> str:
    return (urlparse(url or "").hostname or "").lower()


class OpenAIProvider:
    """``--llm-provider openai`` (the default): an endpoint, or with none the embedded model."""

    name = "openai"
    options = EmbeddedOptions  # the embedded model's options (--local-model, ...)

    def target(self, config: Config) -> Target:
        base = config.llm_base_url or os.environ.get("OPENAI_BASE_URL") or None
        if base is None and config.llm_model:
            if not os.environ.get(config.api_key_env):
                raise EndpointError(
                    f"--model {config.llm_model} needs an endpoint: set --llm-base-url, or "
                    f"${config.api_key_env} for OpenAI (use --local-model for the embedded "
                    "model)")
            base = OPENAI_URL
        if base is None:
            from ..gguf import local_model_id

            alias, fp = local_model_id(config.options_of(EmbeddedOptions).local_model)
            return Target(self.name, alias, f"local:{alias}:{fp}", None, embedded=True)
        base = base.rstrip("/")
        model = config.llm_model or (OPENAI_DEFAULT_MODEL if _host(base) == "api.openai.com"
                                     else None)
        # the cache id is stored with every cached reply: never a password from the URL
        return Target(self.name, model or "(endpoint default)",
                      f"{model or 'default'}@{safe_url(base)}", base, model=model)

    def open(self, config: Config, target: Target, progress: Progress) -> LLMHandle:
        from .openai_client import OpenAIBackend

        if target.embedded:
            from ..local.serve import start

            server, model = start(config, progress)
            llm = OpenAIBackend(
                base_url=server.base_url, api_key=server.api_key, model=model.name,
                cache_id=target.cache_id, structured=server.kind.structured,
                timeout=config.llm_timeout, retries=config.llm_retries, key_env=None,
                extra_body={"seed": 0}, server=server, notice=_notice(progress))
            return LLMHandle(llm=llm, base_url=server.base_url, model_name=model.name,
                             kind=server.name, server=server, _closers=[server.stop])
        assert target.base_url is not None
        key = os.environ.get(config.api_key_env)
        if not key and _host(target.base_url) == "api.openai.com":
            raise EndpointError(f"OpenAI needs an API key: set ${config.api_key_env}")
        if key and urlparse(target.base_url).username is not None:
            # user:password@ in the URL is HTTP Basic auth, which takes the Authorization header
            # the key would have: one of them would be dropped without a word
            raise EndpointError(f"{safe_url(target.base_url)} carries a user:password and "
                                f"${config.api_key_env} is set: only one can authenticate "
                                "(Basic from the URL, or the Bearer key); keep one")
        llm = OpenAIBackend(base_url=target.base_url, api_key=key or "not-needed",
                            model=target.model, cache_id=target.cache_id,
                            structured="json_schema", timeout=config.llm_timeout,
                            retries=config.llm_retries, key_env=config.api_key_env,
                            notice=_notice(progress))
        return LLMHandle(llm=llm, base_url=target.base_url, model_name=target.model_name,
                         kind=self.name)


def _notice(progress: Progress):
    from ...progress import plain

    return lambda line: progress.log(f"[yellow]waiting:[/] {plain(line)}")


@hookimpl
def register_llm_providers(register):
    register("openai", OpenAIProvider())
