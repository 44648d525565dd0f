"""One clock the tests move by hand, shared by the fake iRacing server and the clients: no sleeping for expiry."""

from __future__ import annotations

import threading

T0 = 1_757_419_200.0  # 2025-09-09T12:00:00Z, the capture day of the default snapshot


class FakeClock:
    """Epoch seconds that change only when the test says so (thread-safe: client threads may move it too)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def advance_to(self, when: float) -> None:
        """Move to ``when``, never back (several threads may ask for the same instant)."""
        with self._lock:
            self.now = max(self.now, when)
