"""Helpers shared by the test suites: real concurrency and a real browser."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

needs_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
    reason=f"no Chromium at {CHROMIUM}: apt-get install -y chromium (Playwright's own download does not work here)",
)


def run_together(count: int, work: Callable[[int], object], *, timeout: float = 60) -> list[object]:
    """Run `work(i)` in `count` threads released together by one barrier.

    Each thread uses its own database connection and closes it at the end.
    Returns, per thread, what `work` returned or the exception it raised.
    """
    barrier = threading.Barrier(count)
    results: list[object] = [RuntimeError("did not run")] * count

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[i] = work(i)
        except BaseException as exc:  # returned to the test, which asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 30)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results
