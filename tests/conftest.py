"""Shared fixtures. Media fixtures live in tests/fixtures/media.py, LLM ones in llm.py."""

pytest_plugins = ["tests.fixtures.media", "tests.fixtures.llm", "tests.fixtures.browser"]


def pytest_report_header(config):
    from tests.fixtures.llm import perturbation

    return perturbation()
