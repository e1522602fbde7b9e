"""The LLM layer: one small interface (``complete``), providers (OpenAI-compatible, LangChain),
the embedded local model server, packaged GGUF models, per-call cache, prompts and usage."""
