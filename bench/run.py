"""Run the benchmarks: ``./dev bench --scale small|medium|large``.

Uses its own database (``installment_credit_bench``, created by ./dev bench
with the add-on and no demo data), runs each scenario several times and
prints one table: scenario, size, add-on time, reference time, ratio, target.
"""

import argparse
import os
import sys

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.scenarios import SCENARIOS, SIZES


def run(env, scale, only=None):
    rows = []
    for label, function, target in SCENARIOS:
        if only and not any(label.startswith(o) for o in only):
            continue
        result = function(env, SIZES[scale])
        ratio = result["addon"] / result["reference"] if result["reference"] else 0.0
        rows.append(
            (label, result["size"], result["addon"], result["reference"], ratio, target)
        )
        print(
            f"{label:<62} {result['size']:>24} {result['addon']:>9.3f}s "
            f"{result['reference']:>9.3f}s {ratio:>6.2f} {'<=' if ratio <= target else '> '}{target}",
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
    print(
        f"{'scenario':<62} {'size':>24} {'add-on':>10} {'reference':>10} {'ratio':>6} target"
    )
    with Registry(args.db).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        rows = run(env, args.scale, args.only)
        cr.rollback()
    failed = [row for row in rows if row[4] > row[5]]
    print(f"{len(rows) - len(failed)} within target, {len(failed)} above target")


if __name__ == "__main__":
    main()
