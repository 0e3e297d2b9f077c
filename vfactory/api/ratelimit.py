"""Per-token rate limit: a token bucket in the service process (refill rate/s, burst)."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """``take(key, rate, burst)`` → 0 when the request may pass, else seconds until it may."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[object, tuple[float, float]] = {}  # key → (tokens, last time)

    def take(self, key: object, rate: float, burst: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate if rate > 0 else math.inf
