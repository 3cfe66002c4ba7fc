"""Loan maths: the time one quote (schedule + all-in APR) takes for a 30-year loan, per method.

    .venv/bin/python -m bench.loan_math [--iterations 2000] [--term 360] [--warmup 50]

Times crm.loans.apr.quote() exactly as the product and application pages call it: 500,000 CNY at
4.9 % a year with a 2 % broker service fee taken at disbursement and a 0.3 %/month lender
management fee, once per repayment method. The methods are interleaved call by call, so a burst
of other work on the machine falls on all of them alike. Per method it prints the installments,
the APR found (the same loan under every method: a quick check the figures are sane), p50/p99
and max milliseconds per call and calls/s on one core. No database; goal: p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from decimal import Decimal

from bench import common
from crm.loans.apr import Quote, quote
from crm.loans.fees import Fee
from crm.loans.schedule import METHODS

AMOUNT = Decimal("500000")
ANNUAL_RATE = Decimal("0.049")
START = date(2024, 1, 31)
FEES = [
    Fee("服务费", "broker", "upfront_rate", Decimal("0.02")),
    Fee("账户管理费", "lender", "monthly_rate", Decimal("0.003")),
]
GOAL_P99_MS = 5.0


def run(method: str, term: int) -> tuple[float, Quote]:
    """One quote: (milliseconds, the quote)."""
    started = time.perf_counter_ns()
    result = quote(AMOUNT, term, ANNUAL_RATE, method, FEES, START)
    return (time.perf_counter_ns() - started) / 1e6, result


def measure(iterations: int, warmup: int, term: int) -> dict[str, list[float]]:
    for _ in range(warmup):
        for method in METHODS:
            run(method, term)
    timings: dict[str, list[float]] = {method: [] for method in METHODS}
    for _ in range(iterations):
        for method in METHODS:
            timings[method].append(run(method, term)[0])
    return timings


def summary(timings: dict[str, list[float]], term: int) -> list[list[object]]:
    rows: list[list[object]] = []
    for method, ms in timings.items():
        result = run(method, term)[1]
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        rows.append(
            [
                method,
                len(result.schedule),
                str(result.apr),
                f"{cuts[49]:.3f}",
                f"{cuts[98]:.3f}",
                f"{max(ms):.3f}",
                round(len(ms) / (sum(ms) / 1000)),
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=2000, help="quotes per method")
    parser.add_argument("--warmup", type=int, default=50, help="untimed quotes per method first")
    parser.add_argument("--term", type=int, default=360, help="months")
    args = parser.parse_args()
    print(f"machine: {common.machine_note()}")
    timings = measure(args.iterations, args.warmup, args.term)
    header = ["method", "installments", "APR", "p50 ms", "p99 ms", "max ms", "calls/s"]
    print(
        f"\nquote(): {AMOUNT:,} CNY over {args.term} months at {ANNUAL_RATE:.1%}, "
        f"{args.iterations:,} calls per method"
    )
    print(common.table(header, summary(timings, args.term)))
    worst = max(statistics.quantiles(ms, n=100, method="inclusive")[98] for ms in timings.values())
    verdict = "met" if worst < GOAL_P99_MS else "MISSED"
    print(f"goal: p99 < {GOAL_P99_MS:g} ms: {verdict}; machine at the end: {common.machine_note()}")


if __name__ == "__main__":
    main()
