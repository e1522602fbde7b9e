"""Local OpenAI-compatible model servers (the embedded default and its alternatives)."""
