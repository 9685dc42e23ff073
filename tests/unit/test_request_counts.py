"""The request counter behind /metrics: counts by status, cumulative "le" buckets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from forge_http.request_counts import RequestCounts


def scrape(counts: RequestCounts) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(counts)
    lines = generate_latest(registry).decode().splitlines()
    return {
        name: float(value)
        for name, _, value in (line.rpartition(" ") for line in lines if line[0] != "#")
    }


def test_requests_are_counted_by_method_route_and_status() -> None:
    counts = RequestCounts()
    for status in (200, 200, 404):
        counts.record("GET", "/api/v1/sessions/{session_id:uuid}", status, 0.002)
    counts.record("POST", "/api/v1/sessions", 201, 0.002)
    samples = scrape(counts)
    route = 'route="/api/v1/sessions/{session_id:uuid}"'
    assert samples[f'forge_http_requests_total{{method="GET",{route},status="200"}}'] == 2
    assert samples[f'forge_http_requests_total{{method="GET",{route},status="404"}}'] == 1
    post = 'forge_http_requests_total{method="POST",route="/api/v1/sessions",status="201"}'
    assert samples[post] == 1


def test_latency_buckets_are_cumulative_and_a_bound_counts_in_its_bucket() -> None:
    counts = RequestCounts()
    for seconds in (0.001, 0.0011, 0.3, 20.0):
        counts.record("GET", "/r", 200, seconds)
    samples = scrape(counts)

    def bucket(le: str) -> float:
        return samples[
            f'forge_http_request_duration_seconds_bucket{{le="{le}",method="GET",route="/r"}}'
        ]

    assert bucket("0.001") == 1  # exactly on the bound: "less than or equal"
    assert bucket("0.0025") == 2
    assert bucket("0.25") == 2
    assert bucket("0.5") == 3
    assert bucket("10.0") == 3
    assert bucket("+Inf") == 4
    assert samples['forge_http_request_duration_seconds_count{method="GET",route="/r"}'] == 4
    assert samples['forge_http_request_duration_seconds_sum{method="GET",route="/r"}'] == (
        0.001 + 0.0011 + 0.3 + 20.0
    )
