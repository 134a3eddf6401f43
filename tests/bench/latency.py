"""A timed run of purchases: throughput over the wall clock, latency percentiles per purchase."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample that at least `p` percent are at or below."""
    if not samples:
        return math.nan  # every purchase failed; the report says so
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class TimedRun:
    seconds: float
    """Wall-clock time from the first purchase starting to the last one finishing."""
    latencies: tuple[float, ...]
    """Seconds each purchase took, in the order they finished."""

    @property
    def purchases(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.purchases / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    def summary(self) -> dict[str, float | int | None]:
        def ms(value: float) -> float | None:
            return None if math.isnan(value) else round(value, 3)

        return {
            "purchases": self.purchases,
            "seconds": round(self.seconds, 4),
            "per_second": round(self.per_second, 1),
            "p50_ms": ms(self.p50_ms),
            "p99_ms": ms(self.p99_ms),
        }
