"""The figures of ``scale_bench.py``: wrk processes that ran together made one figure,
and the tables it prints (figures per set-up, ratios to the baseline)."""

from __future__ import annotations

from dataclasses import dataclass, field

from http_bench import Result, median


@dataclass
class Measured:
    """One set-up's figures: per scenario, one combined Result per round."""

    label: str
    results: dict[str, list[Result]] = field(default_factory=dict)
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # the replicas', per request


def combine(parts: list[Result]) -> Result:
    """One figure for wrk processes that ran at the same time: req/s and counts add up;
    latency percentiles cannot be merged from summaries, so the worse one stands."""
    return Result(
        rps=sum(part.rps for part in parts),
        p50_ms=max(part.p50_ms for part in parts),
        p99_ms=max(part.p99_ms for part in parts),
        requests=sum(part.requests for part in parts),
        errors=sum(part.errors for part in parts),
    )


def cpu_ticks(stat: str) -> int:
    """User + system CPU ticks from a /proc/<pid>/stat line. The name (field 2) may hold
    spaces and parentheses, so fields are counted after its closing parenthesis."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15


def ratios(results: list[Result], baseline: list[Result], key: str = "rps") -> list[float]:
    """Per-round ratios of ``key`` against the baseline's figure of the same round."""
    return [
        getattr(mine, key) / getattr(base, key)
        for mine, base in zip(results, baseline, strict=True)
    ]


def figures_table(setups: list[Measured], scenarios: tuple[str, ...]) -> list[str]:
    """Medians over the rounds; errors summed."""
    lines = [
        "| set-up | scenario | req/s | p50 ms | p99 ms | errors | replica CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in scenarios:
        for setup in setups:
            results = setup.results[scenario]
            lines.append(
                f"| {setup.label} | {scenario} | {median([r.rps for r in results]):,.0f} "
                f"| {median([r.p50_ms for r in results]):.2f} "
                f"| {median([r.p99_ms for r in results]):.2f} "
                f"| {sum(r.errors for r in results)} "
                f"| {median(setup.cpu_ms.get(scenario, [])):.2f} |"
            )
    return lines


def ratios_table(setups: list[Measured], scenarios: tuple[str, ...]) -> list[str]:
    """Every set-up after the first against the first, per round and as the median."""
    base = setups[0]
    lines = [
        f"| scenario | set-up | req/s / {base.label} (per round) | median "
        f"| p99 / {base.label} | CPU per request / {base.label} |",
        "|---|---|---|---:|---:|---:|",
    ]
    for scenario in scenarios:
        for setup in setups[1:]:
            per_round = ratios(setup.results[scenario], base.results[scenario])
            p99 = ratios(setup.results[scenario], base.results[scenario], "p99_ms")
            cpu = [
                mine / theirs
                for mine, theirs in zip(
                    setup.cpu_ms.get(scenario, []), base.cpu_ms.get(scenario, []), strict=True
                )
            ]
            lines.append(
                f"| {scenario} | {setup.label} | {', '.join(f'{r:.2f}' for r in per_round)} "
                f"| {median(per_round):.2f} | {median(p99):.2f} | {median(cpu):.2f} |"
            )
    return lines


def failed(setups: list[Measured]) -> int:
    return sum(r.errors for s in setups for results in s.results.values() for r in results)
