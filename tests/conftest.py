"""Shared fixtures. Media fixtures live in tests/fixtures/media.py, LLM ones in llm.py."""

pytest_plugins = ["tests.fixtures.media", "tests.fixtures.llm", "tests.fixtures.browser"]
