"""The ``tryon`` command line."""

from tryon.cli.main import main

__all__ = ["main"]
