#!/usr/bin/env python3
"""Shim so `python cli.py ...` behaves exactly like the `v2a` console script."""

from v2a.cli import main

if __name__ == "__main__":
    main()
