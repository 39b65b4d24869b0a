"""Benchmarks: figures printed as a table, never asserted as wall times.

They run at small scale in the suite so they cannot rot; for the figures the
issues name, run them at full scale:
    WENMING_BENCH_SCALE=full bin/test tests/bench
"""
import os
import statistics

import pytest

FULL = os.environ.get("WENMING_BENCH_SCALE") == "full"


def scale(small, full):
    return full if FULL else small


def median_ms(samples):
    return statistics.median(samples) * 1000


def p95_ms(samples):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] * 1000


@pytest.fixture
def report(capsys):
    """Print a table straight to the terminal, past pytest's capture."""
    def show(title, headers, rows):
        widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
        line = "  ".join("{:<%d}" % w for w in widths)
        with capsys.disabled():
            print(f"\n\n== {title} ({'full' if FULL else 'small'} scale) ==")
            print(line.format(*headers))
            print(line.format(*["-" * w for w in widths]))
            for row in rows:
                print(line.format(*row))
    return show
