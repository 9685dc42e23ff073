"""The RateLimiter port in one process's memory: counters that no other replica sees."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from forge_core.rate_limits import Hit

#: Past this many keys, a hit first forgets the windows that have ended.
PRUNE_AT = 10_000


class MemoryRateLimiter:
    """Fixed windows per key; ``clock`` is monotonic seconds (injectable for tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window end, count)

    async def hit(self, key: str, limit: int, window: int) -> Hit:
        now = self.clock()
        if len(self._windows) >= PRUNE_AT:
            self._prune(now)
        end, count = self._windows.get(key, (now, 0))
        if end <= now:  # no window yet, or it has ended: this hit starts one
            end, count = now + window, 0
        self._windows[key] = (end, count + 1)
        if count < limit:
            return Hit(allowed=True)
        return Hit(allowed=False, retry_after=max(1, math.ceil(end - now)))

    def _prune(self, now: float) -> None:
        self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
