"""benchmarks/scale_bench.py: its imports resolve and its options parse, and the figures
it reports (two wrk processes made one figure, ratios to the baseline) add up."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

# wrk --latency output, as wrk 4.1 prints it: one run on each replica.
WRK_A = """\
Running 10s test @ http://127.0.0.1:40001/api/v1/sessions
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.02ms    2.01ms  30.12ms   80.00%
    Req/Sec     4.85k   300.00     5.20k    70.00%
  Latency Distribution
     50%    6.14ms
     75%    7.00ms
     90%    8.50ms
     99%   14.23ms
  48500 requests in 10.00s, 150.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4850.00
Transfer/sec:     15.00MB
"""
WRK_B = """\
Running 10s test @ http://127.0.0.1:40002/api/v1/sessions
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.00ms   40.00ms   1.50s    95.00%
    Req/Sec     3.00k   200.00     3.50k    70.00%
  Latency Distribution
     50%  850.00us
     75%    3.00ms
     90%    9.00ms
     99%    1.30s
  30005 requests in 10.00s, 90.00MB read
Requests/sec:   3000.50
Transfer/sec:      9.00MB
"""


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("scale_figures")


@pytest.mark.parametrize(
    ("script", "option"), [("scale_bench.py", "--connections"), ("sql_read_probe.py", "--calls")]
)
def test_the_scripts_answer_help(script: str, option: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert option in result.stdout and "--postgres" in result.stdout


def test_an_odd_number_of_connections_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale_bench.py"), "--connections", "63"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "multiple of 2" in result.stderr


def test_two_wrk_runs_at_once_add_up_and_keep_the_worse_latency(figures: ModuleType) -> None:
    from http_bench import parse_wrk

    combined = figures.combine([parse_wrk(WRK_A), parse_wrk(WRK_B)])

    assert combined.rps == pytest.approx(7850.5)
    assert combined.requests == 78505
    assert combined.p50_ms == pytest.approx(6.14)
    assert combined.p99_ms == pytest.approx(1300.0)
    assert combined.errors == 3 + 4  # socket errors and non-2xx, of either run


def test_cpu_ticks_are_read_after_a_process_name_with_spaces(figures: ModuleType) -> None:
    # /proc/<pid>/stat: pid (comm) state ppid ... utime (14th) stime (15th) ...
    stat = "4242 (forge (serve) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 3 0"

    assert figures.cpu_ticks(stat) == 1234 + 56


def test_ratios_pair_each_round_with_the_baselines_same_round(figures: ModuleType) -> None:
    from http_bench import Result

    base = [Result(1000.0, 5.0, 10.0, 10000, 0), Result(2000.0, 4.0, 20.0, 20000, 0)]
    mine = [Result(500.0, 9.0, 30.0, 5000, 0), Result(3000.0, 2.0, 10.0, 30000, 0)]

    assert figures.ratios(mine, base) == pytest.approx([0.5, 1.5])
    assert figures.ratios(mine, base, "p99_ms") == pytest.approx([3.0, 0.5])


def test_the_tables_show_medians_and_per_round_ratios(figures: ModuleType) -> None:
    from http_bench import Result

    base = figures.Measured(
        "SQLite x1", {"list": [Result(1000.0, 5.0, 10.0, 1, 0)] * 2}, {"list": [0.5, 0.5]}
    )
    two = figures.Measured(
        "PG x2",
        {"list": [Result(500.0, 9.0, 30.0, 1, 2), Result(1500.0, 7.0, 20.0, 1, 1)]},
        {"list": [2.0, 4.0]},
    )

    table = figures.figures_table([base, two], ("list",))
    assert table[2] == "| SQLite x1 | list | 1,000 | 5.00 | 10.00 | 0 | 0.50 |"
    assert table[3] == "| PG x2 | list | 1,000 | 8.00 | 25.00 | 3 | 3.00 |"
    ratios = figures.ratios_table([base, two], ("list",))
    assert ratios[2] == "| list | PG x2 | 0.50, 1.50 | 1.00 | 2.50 | 6.00 |"
    assert figures.failed([base, two]) == 3


def test_the_throwaway_databases_sit_beside_the_admin_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = importlib.import_module("bench_services")

    url = bench.database_url("postgresql://postgres@127.0.0.1:5432/test?ssl=disable", "forge_b")

    assert url == "postgresql://postgres@127.0.0.1:5432/forge_b?ssl=disable"
