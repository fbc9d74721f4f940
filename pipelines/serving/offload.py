"""Where a synchronous answer runs: on the event loop while answers are quick and it is alone, else a pool.

    Offload(prefix)                   a thread pool named ``prefix`` (threads made on demand)
      await run(fn, *args, alone)     fn(*args) on the loop when ``alone`` (no other request in
                                      flight) and the last answer took at most ``inline_seconds``
                                      (one client pays no thread hop); on the pool otherwise, so a
                                      slow model never holds up the loop (probes, other clients)
      close()                         the pool's threads end once their calls finish

REST (:mod:`pipelines.serving.rest`) and gRPC (:mod:`pipelines.serving.grpc_service`) each own one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["INLINE_BYTES", "INLINE_SECONDS", "Offload"]

T = TypeVar("T")

# A lone request runs on the loop only while answers take less than this: a slow model would hold
# up the loop (health checks, other clients' bodies) for the whole call.
INLINE_SECONDS = 0.002
# A request body up to this may be decoded and answered on the loop (batched, or a lone request);
# a bigger one always goes to the pool.
INLINE_BYTES = 64 * 1024


class Offload:
    """A synchronous call on the loop or on a thread pool (see the module's docstring)."""

    def __init__(self, prefix: str, threads: int = 32, inline_seconds: float = INLINE_SECONDS) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=prefix)
        self.inline_seconds = inline_seconds
        self.last_seconds = 0.0  # how long the last answer took

    async def run(self, fn: Callable[..., T], *args: Any, alone: bool = True) -> T:
        start = time.perf_counter()
        try:
            if alone and self.last_seconds <= self.inline_seconds:
                return fn(*args)
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
        finally:
            self.last_seconds = time.perf_counter() - start

    def close(self) -> None:
        """Stop the threads once the calls running finish; calls not started are dropped."""
        self.pool.shutdown(wait=False, cancel_futures=True)
