"""The LLM layer: one small interface (``complete``), OpenAI-compatible and LangChain backends,
the embedded local model server, packaged GGUF models, per-call cache, prompts and usage."""

from .client import LLM, Completion, get_llm, open_llm

__all__ = ["LLM", "Completion", "get_llm", "open_llm"]
