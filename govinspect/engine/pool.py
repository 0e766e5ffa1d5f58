"""Worker processes for inspecting several sites at once: extraction and content checks are CPU work, and one
Python process uses one core. Each task inspects one whole site in a child process (its own event loop).

Children are forked once per round, before any event loop runs, so they inherit what the parent loaded (word lists,
the typo model, the admin's working-day table) instead of rebuilding it; a child dies with its parent (a round killed
with SIGKILL must not leave crawlers writing into WARC files a resumed round will append to).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1


def _child_init() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: children still end when the pool shuts down
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _ready() -> int:
    return os.getpid()


def default_processes() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def site_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of `processes` forked children, started now (call it outside any running event loop)."""
    # the children never collect what the parent loaded (word lists, typo model): their collector stops visiting
    # it, and their copies of those memory pages stay shared with the parent instead of being written to
    gc.collect()
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"), initializer=_child_init)
        pool.submit(_ready).result()  # a fork pool starts all its children at the first task
    finally:
        gc.unfreeze()  # the parent (a long-lived worker, say) collects as before
    return pool
