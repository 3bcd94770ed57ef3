"""The production mix under load: ``./dev bench --load [--scale S] [--faults]``.

1. the load test's data (``fixture.py``), committed in the benchmark database;
2. Odoo started here with ``--workers=2 --max-cron-threads=1`` on 127.0.0.1
   (ports 8190-8199), and with the local streaming replica
   (``./dev replica start``) for the readonly routes when it runs;
3. Locust, headless, bounded (users, spawn rate, seconds; 180 s at most),
   running ``locustfile.py`` against it; halfway through, the daily
   installment action (late flip + reminders) is triggered and runs in the
   cron worker;
4. the report: per request type the throughput, p50/p95/p99 and the failures
   by cause, the add-on's requests next to their reference, the deadlocks
   PostgreSQL logged during the run, the scheduled action's run, and the
   invariants checker (``installment_credit/tools/invariants.py``).

With ``--faults`` (``faults.py``) the same load runs against a disposable
copy of the cluster while worker processes are killed and PostgreSQL is
restarted.
"""

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

from bench.api_load import start_server
from bench.load import fixture

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SECONDS = 180
PAIRS = [
    ("portal /my/installments [addon]", "portal /my/invoices [ref]"),
    ("portal /my/credits [addon]", "portal /my/invoices [ref]"),
    ("portal invoice page [addon]", "portal invoice page [ref]"),
    ("back-office open invoice [addon]", "back-office open invoice [ref]"),
    ("back-office register payment [addon]", "back-office register payment [ref]"),
    (
        "back-office post invoice with term [addon]",
        "back-office post invoice with term [ref]",
    ),
]


def stop_server(server):
    """SIGTERM (graceful: Odoo lets a running cron job finish), a second
    SIGTERM after 30 s (immediate), SIGKILL of what is left after 15 s."""
    import psutil

    children = psutil.Process(server.pid).children(recursive=True)
    for attempt, wait in ((0, 30), (1, 15)):
        server.terminate()
        try:
            server.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            if attempt:
                server.kill()
                server.wait(timeout=30)
    for child in children:
        if child.is_running():
            child.kill()


def ensure_scale(db, scale):
    """The scale's benchmark dataset (bench/dataset.py) under the load's own
    data, built on its dataset's day as ./dev bench does, once."""
    from freezegun import freeze_time

    from bench.dataset import ensure_dataset
    from bench.scenario_credits import TODAY

    cr, env = fixture._env(db)
    try:
        with freeze_time(TODAY, tick=True):
            size = ensure_dataset(env, scale)
            cr.commit()
        print(
            f"dataset {scale}: {size['customers']} customers, "
            f"{size['customers'] * size['invoices_per_customer']} invoices",
            flush=True,
        )
    finally:
        cr.close()


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def free_port(first=8190, last=8199):
    for port in range(first, last + 1):
        if not port_open(port):
            return port
    raise SystemExit(f"no free port in {first}-{last}")


def replica_args():
    port = int(os.environ.get("IC_PGREPLICA_PORT", "54339"))
    if port_open(port):
        return ["--db_replica_host=127.0.0.1", f"--db_replica_port={port}"], port
    return [], None


def trigger_daily(db, after, result):
    """Halfway: hand the daily installment action to the cron worker."""
    time.sleep(after)
    cr, env = fixture._env(db)
    try:
        cron = env.ref("installment_credit.ir_cron_installment_daily")
        result["lastcall_before"] = cron.lastcall
        result["late_before"] = env["installment.plan.line"].search_count(
            [("state", "=", "late")]
        )
        cron._trigger()
        cr.commit()
        result["triggered_at"] = time.time()
    finally:
        cr.close()


def cron_outcome(db, result):
    cr, env = fixture._env(db)
    try:
        cron = env.ref("installment_credit.ir_cron_installment_daily")
        result["lastcall_after"] = cron.lastcall
        result["failure_count"] = cron.failure_count
        result["late_after"] = env["installment.plan.line"].search_count(
            [("state", "=", "late")]
        )
    finally:
        cr.close()


def warm_up(url, data, rounds=4):
    """Every page and call once per worker or so: the measured run starts on
    loaded registries and caches."""
    import requests

    portal = data["portal"][0]
    session = requests.Session()
    session.post(
        f"{url}/web/session/authenticate",
        json={
            "params": {
                "db": data["db"],
                "login": portal["login"],
                "password": portal["login"],
            }
        },
        timeout=120,
    )
    admin = requests.Session()
    admin.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": data["db"], "login": "admin", "password": "admin"}},
        timeout=120,
    )
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {data['key']}"
    for _i in range(rounds):
        for path in (
            "/my/installments",
            "/my/credits",
            "/my/invoices",
            f"/my/invoices/{portal['with_plans'][0]['id']}",
            f"/my/invoices/{portal['without_plans'][0]['id']}",
        ):
            session.get(f"{url}{path}", timeout=120)
        for kind in ("addon", "reference"):
            admin.post(
                f"{url}/web/dataset/call_kw/account.move/web_read",
                json={
                    "params": {
                        "model": "account.move",
                        "method": "web_read",
                        "args": [data["invoices"][kind][:1]],
                        "kwargs": {"specification": {"name": {}}},
                    }
                },
                timeout=120,
            )
        api.get(
            f"{url}/api/credits/v1/customers/{portal['partner_id']}/balance",
            timeout=120,
        )


def run_locust(url, data_path, users, spawn_rate, seconds, csv_prefix):
    env = dict(os.environ, IC_LOAD_DATA=data_path)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            os.path.join(HERE, "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--host",
            url,
            "--csv",
            csv_prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=seconds + 120,
    )


def read_stats(csv_prefix):
    stats, failures = {}, {}
    with open(f"{csv_prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                continue
            stats[row["Name"]] = row
    with open(f"{csv_prefix}_failures.csv") as handle:
        for row in csv.DictReader(handle):
            failures.setdefault(row["Name"], {})[row["Error"]] = int(row["Occurrences"])
    return stats, failures


def pg_log_tail(path, offset):
    if not os.path.exists(path):
        return ""
    with open(path, errors="replace") as handle:
        handle.seek(offset)
        return handle.read()


def report(stats, failures, seconds):
    header = (
        f"{'request':<48} {'count':>6} {'req/s':>6} {'p50':>6} {'p95':>6} "
        f"{'p99':>6}  errors"
    )
    lines = [header]
    for name in sorted(stats):
        row = stats[name]
        errs = failures.get(name, {})
        causes = ", ".join(f"{c} {n}" for c, n in sorted(errs.items())) or "0"
        lines.append(
            f"{name:<48} {row['Request Count']:>6} "
            f"{float(row['Requests/s']):>6.1f} {row['50%']:>6} {row['95%']:>6} "
            f"{row['99%']:>6}  {causes}"
        )
    lines.append("")
    lines.append(f"{'add-on vs reference (p95, ms)':<72} ratio")
    ratios = {}
    for addon, reference in PAIRS:
        if addon in stats and reference in stats:
            a, r = float(stats[addon]["95%"]), float(stats[reference]["95%"])
            ratios[addon] = a / r if r else float("nan")
            lines.append(
                f"{addon} {a:.0f} vs {reference} {r:.0f}".ljust(72)
                + f" {ratios[addon]:.2f}"
            )
    return lines, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--users", type=int, default=12)
    parser.add_argument("--spawn-rate", type=float, default=4)
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--no-replica", action="store_true")
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--late", type=int, default=150, help="(faults) late customers")
    args, _rest = parser.parse_known_args(argv)
    if args.faults:
        from bench.load import faults

        return faults.main(args)
    seconds = min(args.seconds, MAX_SECONDS)
    db = os.environ["IC_BENCH_DB"]
    print(f"load test on {db}: set-up ...", flush=True)
    ensure_scale(db, args.scale)
    data = fixture.setup(db)
    local = os.environ.get("IC_LOCAL", ".")
    run_id = uuid.uuid4().hex[:8]
    data_path = os.path.join(local, f"load-{run_id}.json")
    with open(data_path, "w") as handle:
        json.dump(data, handle)
    extra, replica_port = ([], None) if args.no_replica else replica_args()
    port = free_port()
    pg_log = os.path.join(local, "postgresql.log")
    pg_offset = os.path.getsize(pg_log) if os.path.exists(pg_log) else 0
    print(
        f"server: --workers=2 --max-cron-threads=1 on 127.0.0.1:{port}"
        + (f", replica on port {replica_port}" if replica_port else ", no replica"),
        flush=True,
    )
    server = start_server(db, port, 1, extra, log_name="bench-load-server")
    cron = {}
    trigger = threading.Thread(target=trigger_daily, args=(db, seconds / 2, cron))
    csv_prefix = os.path.join(local, f"load-{run_id}")
    try:
        warm_up(f"http://127.0.0.1:{port}", data)
        trigger.start()
        print(
            f"locust: {args.users} users, spawn rate {args.spawn_rate}/s, "
            f"{seconds} s; the daily action is triggered at {seconds / 2:.0f} s",
            flush=True,
        )
        result = run_locust(
            f"http://127.0.0.1:{port}",
            data_path,
            args.users,
            args.spawn_rate,
            seconds,
            csv_prefix,
        )
        trigger.join()
        # let the cron worker finish the daily action (bounded)
        deadline = time.time() + 60
        while time.time() < deadline:
            cron_outcome(db, cron)
            if cron.get("lastcall_after") != cron.get("lastcall_before"):
                break
            time.sleep(2)
    finally:
        stop_server(server)
        os.unlink(data_path)
    if not os.path.exists(f"{csv_prefix}_stats.csv"):
        print(result.stdout, result.stderr, file=sys.stderr)
        raise SystemExit("locust did not run")
    stats, failures = read_stats(csv_prefix)
    lines, ratios = report(stats, failures, seconds)
    print("\n".join(lines))
    errors = sum(sum(v.values()) for v in failures.values())
    deadlocks = pg_log_tail(pg_log, pg_offset).count("deadlock detected")
    print(
        f"\ndaily action: late installments {cron.get('late_before')} -> "
        f"{cron.get('late_after')}, last run {cron.get('lastcall_before')} -> "
        f"{cron.get('lastcall_after')}, consecutive failures "
        f"{cron.get('failure_count')}"
    )
    print(
        f"errors surfaced to clients: {errors}; deadlocks in the PostgreSQL log: "
        f"{deadlocks}"
    )
    portal = [
        ratios.get(name)
        for name in (
            "portal /my/installments [addon]",
            "portal /my/credits [addon]",
        )
        if ratios.get(name) is not None
    ]
    worst = max(portal) if portal else float("nan")
    print(
        f"targets: 0 errors {'met' if not errors else 'MISSED'}; portal p95 <= 1.5x "
        f"/my/invoices: {worst:.2f} {'met' if worst <= 1.5 else 'MISSED'}; "
        f"no deadlock {'met' if not deadlocks else 'MISSED'}"
    )
    from odoo.addons.installment_credit.tools.invariants import check_invariants

    cr, env = fixture._env(db)
    try:
        results = check_invariants(env, out=print)
    finally:
        cr.close()
    violations = sum(len(v) for v in results.values())
    print(f"invariants: {'all hold' if not violations else f'{violations} violations'}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
