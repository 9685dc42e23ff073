"""HTTP requests by route and status, and their latency, for ``GET /metrics``.

They are kept in plain dicts and handed to Prometheus when it scrapes. prometheus_client's
own Counter and Histogram take a lock for every increment (their values may be shared by
threads), and with the label lookup that cost ~15 µs a request; every request is counted
here on the event loop's one thread, where a dict update is enough.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BOUNDS = [repr(bound) for bound in BUCKETS] + ["+Inf"]  # as prometheus_client writes them


class RequestCounts(Collector):
    """``forge_http_requests_total`` and ``forge_http_request_duration_seconds``."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        # Per (method, route): a count per bucket (the last one past every bound), then
        # the sum of the seconds.
        self._latency: dict[tuple[str, str], list[float]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        histogram = self._latency.get((method, route))
        if histogram is None:
            histogram = self._latency[(method, route)] = [0.0] * (len(BUCKETS) + 2)
        histogram[bisect.bisect_left(BUCKETS, seconds)] += 1  # "le": a bound counts in
        histogram[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "forge_http_requests", "HTTP requests answered", labels=["method", "route", "status"]
        )
        for (method, route, status), count in list(self._counts.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "forge_http_request_duration_seconds",
            "Time to the end of the response body",
            labels=["method", "route"],
        )
        for (method, route), histogram in list(self._latency.items()):
            cumulative, buckets = 0.0, list[tuple[str, float]]()
            for bound, in_bucket in zip(_BOUNDS, histogram, strict=False):
                cumulative += in_bucket
                buckets.append((bound, cumulative))
            latency.add_metric([method, route], buckets, histogram[-1])
        yield latency
