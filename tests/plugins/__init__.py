"""Third-party plugins as tests write them: each is one module with ``@hookimpl`` functions."""
