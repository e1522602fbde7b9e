"""LLM providers: each a plugin registering itself under ``register_llm_providers``."""
