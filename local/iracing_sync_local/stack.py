"""The local stack behind `iracing-sync sync|serve|demo|local reset` (being written)."""

from __future__ import annotations

from typing import Any


def run_sync(kind: str, target: int | None = None, *, snapshot: str = "2025-09-09", stack: str | None = None) -> dict[str, Any]:
    """Run one sync state machine locally (or on a deployed stack) and return its JSON summary."""
    raise NotImplementedError("local sync is being written")


def serve(port: int = 3000) -> None:
    """Serve the slots API on 127.0.0.1:port until interrupted."""
    raise NotImplementedError


def demo(port: int = 3000) -> None:
    """Local stack up, full sync of the bundled snapshot, API served, example URLs printed."""
    raise NotImplementedError


def reset() -> None:
    """Wipe .local/."""
    raise NotImplementedError
