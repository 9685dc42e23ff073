"""A background loop's run of failures: how long to wait before trying again, and when a
log line is due.

A loop that retries every step while a dependency is down (the database, say) must
neither hammer it nor write a traceback per step: the waits double from ``first`` up to
``cap``, and the loop logs only when its state changes, once when it starts failing
and once when it works again.
"""

from __future__ import annotations

#: The longest wait between two tries of a failing loop, in seconds.
MAX_BACKOFF = 60.0


class FailureStreak:
    def __init__(self, first: float = 1.0, cap: float = MAX_BACKOFF) -> None:
        if not 0 < first <= cap:
            raise ValueError("need 0 < first <= cap")
        self.first, self.cap = first, cap
        self.failures = 0

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next try."""
        self.failures += 1
        return min(self.cap, self.first * 2.0 ** min(self.failures - 1, 32))

    @property
    def started(self) -> bool:
        """Whether the last failure began the streak (the one to log)."""
        return self.failures == 1

    def succeeded(self) -> int:
        """Count a success; how many failures it ended (0: there was no streak)."""
        ended, self.failures = self.failures, 0
        return ended


def described(exc: BaseException) -> str:
    """An error in a few words for a log line: a ForgeError's detail, else its type."""
    detail = getattr(exc, "detail", None)
    return str(detail) if isinstance(detail, str) else f"{type(exc).__name__}: {exc}"
