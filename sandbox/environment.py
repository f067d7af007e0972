"""The sandboxes' own (not secret) credentials in the environment variables a config names, for
the duration of a demo or a test, and the variables as they were afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def variables(**values: str) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the block; each variable gets back its old value (or none)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
