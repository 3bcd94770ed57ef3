"""Run the benchmarks: ``./dev bench --scale small|medium|large``.

Uses its own database (``installment_credit_bench_<scale>``, created by
./dev bench with the add-on and no demo data), builds the dataset of the
scale in it once (bench/dataset.py), runs each scenario several times and
prints one table: scenario, size, add-on time, reference time, ratio, target.
"""

import argparse
import os
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.dataset import ensure_dataset
from bench.scenarios import SCENARIOS, SIZES


def run(env, scale, only=None):
    rows = []
    for label, function, target in SCENARIOS:
        if only and not any(label.startswith(o) for o in only):
            continue
        result = function(env, SIZES[scale])
        if result.get("reference") is None:
            # An absolute target: a rate, higher is better.
            ok = result["rate"] >= result["target_rate"]
            measure = f"{result['rate']:>7.1f}/s"
            reference, target_text = "-", f">={result['target_rate']:g}/s"
        else:
            ratio = result["addon"] / result["reference"] if result["reference"] else 0
            ok = ratio <= target
            measure = f"{ratio:>9.2f}"
            reference = f"{result['reference']:.3f}s"
            target_text = f"<={target}"
        rows.append((label, ok))
        print(
            f"{label:<52} {result['size']:>44} {result['addon']:>8.3f}s "
            f"{reference:>9} {measure} {target_text:>8} {'ok' if ok else 'MISSED'}",
            flush=True,
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument(
        "--db", default=os.environ.get("IC_BENCH_DB", "installment_credit_bench")
    )
    parser.add_argument(
        "--only", nargs="*", help="scenario number prefixes, e.g. 1. 3."
    )
    args = parser.parse_args()
    odoo.tools.config.parse_config(["-c", os.environ["IC_ODOO_CONF"], "-d", args.db])
    header = ("scenario", "size", "add-on", "reference", "ratio/rate", "target")
    print(
        f"{header[0]:<52} {header[1]:>44} {header[2]:>9} {header[3]:>9} "
        f"{header[4]:>9} {header[5]:>8}"
    )
    with Registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        start = time.perf_counter()
        size = ensure_dataset(env, args.scale)
        cr.commit()
        print(
            f"dataset {args.scale}: {size['customers']} customers, "
            f"{size['customers'] * size['invoices_per_customer']} invoices "
            f"(ready in {time.perf_counter() - start:.0f}s)",
            flush=True,
        )
        rows = run(env, args.scale, args.only)
        cr.rollback()
    if not args.only or any("5.".startswith(o) for o in args.only):
        from bench.scenario_credits import credit_throughput

        registry = Registry(args.db)
        for workers in (1, 2):
            rate, overdrawn = credit_throughput(registry, args.scale, workers)
            print(
                f"5b. consume_credits throughput, {workers} worker(s): {rate:.1f} "
                f"calls/s, overdrawn: {'YES' if overdrawn else 'no'}"
            )
            if overdrawn:
                rows.append((f"5b. overdraw with {workers} workers", False))
    missed = [label for label, ok in rows if not ok]
    print(f"{len(rows) - len(missed)} within target, {len(missed)} missed")


if __name__ == "__main__":
    # The dataset is built around a fixed date (bench.scenario_credits.TODAY):
    # the benchmark runs on that day, its clock ticking from there, so that what
    # is valid or late "today" is the same on every run (grants, late flips).
    from freezegun import freeze_time

    from bench.scenario_credits import TODAY

    with freeze_time(TODAY, tick=True):
        main()
