"""Usage events over HTTP: ``./dev bench --api --scale small|medium|large``.

Measures what an integration (an SMS gateway, a telephony switch) gets from the
JSON API when it reports usage, with the server run as in production:

1. set-up, in the benchmark database, committed: a credit type (code
   ``bench_api``), customers with a long history (1,000 grants, 100,000 past
   consumptions each at large scale) and new customers (10 active grants), and
   an API key for the admin user;
2. an Odoo server started with ``--workers=2`` (prefork, one cron thread off)
   on a port of its own;
3. a client in a separate process (``requests``, keep-alive sessions, one per
   client thread) that posts batches of usage events to
   ``POST /api/credits/v1/consumptions``: the sustained rate with batches of
   1,000 for long-history and for new customers, and the rate for batch sizes
   1, 10, 100 and 1,000; beside it, ``consume_credits`` called once per event
   over XML-RPC;
4. the ledger check: every accepted event is one consumption row with its key,
   units consumed == units accepted, no grant spent beyond its quantity, a
   replayed batch consumes nothing.

Grants are dated from the real today: the server runs on the real clock.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SIZES = {
    # customers of each kind, grants and past consumptions per long-history
    # customer, seconds of sustained load per kind
    "small": {"customers": 2, "grants": 50, "history": 2_000, "seconds": 5},
    "medium": {"customers": 4, "grants": 1_000, "history": 20_000, "seconds": 10},
    "large": {"customers": 4, "grants": 1_000, "history": 100_000, "seconds": 20},
}
TYPE_CODE = "bench_api"
LONG_PREFIX = "Bench API long history"
NEW_PREFIX = "Bench API new"


# ----------------------------------------------------------------------
# Set-up and ledger check (in-process, through the ORM and SQL)
# ----------------------------------------------------------------------
def _env(db):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    if odoo.tools.config["db_name"] != db:  # parse the configuration once
        odoo.tools.config.parse_config(["-c", os.environ["IC_ODOO_CONF"], "-d", db])
    cr = Registry(db).cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {})


def setup(db, scale):
    """Create (once per scale) the customers, the credit type and an API key."""
    from odoo.tools import SQL

    from bench.scenario_credits import _customers

    cfg = SIZES[scale]
    cr, env = _env(db)
    try:
        ctype = env["credit.type"].search([("code", "=", TYPE_CODE)], limit=1)
        if not ctype:
            ctype = env["credit.type"].create(
                {"name": "Bench API SMS", "unit_name": "SMS", "code": TYPE_CODE}
            )
        today = date.today()
        customers = {}
        for kind, prefix, grants, history in (
            ("long", LONG_PREFIX, cfg["grants"], cfg["history"]),
            ("new", NEW_PREFIX, 10, 0),
        ):
            name = f"{prefix} {scale}"
            partners = env["res.partner"].search([("name", "=like", f"{name} %")])
            if len(partners) < cfg["customers"]:
                partners = _customers(
                    env, ctype, cfg["customers"], grants, history, name, today=today
                )
            customers[kind] = partners.ids
        # Enough units for any run: top up the active grants of these customers.
        env.flush_all()
        env.cr.execute(
            SQL(
                """
                UPDATE credit_grant
                   SET date_start = %(start)s, date_expiry = %(expiry)s
                 WHERE credit_type_id = %(type)s AND state = 'active'
                   AND date_expiry <= %(soon)s
                """,
                start=today - timedelta(days=10),
                expiry=today + timedelta(days=60),
                type=ctype.id,
                soon=today + timedelta(days=7),
            )
        )
        admin = env.ref("base.user_admin")
        key = (
            env["res.users.apikeys"]
            .with_user(admin)
            ._generate("rpc", f"bench api {uuid.uuid4().hex[:8]}", None)
        )
        cr.commit()
        return {"key": key, "customers": customers, "type_id": ctype.id}
    finally:
        cr.close()


def ledger_check(db, run_id, accepted):
    """What the database holds for this run's keys, against what was accepted."""
    cr = _env(db)[0]
    try:
        cr.execute(
            """
            SELECT COUNT(*), COUNT(DISTINCT idempotency_key),
                   COALESCE(SUM(quantity), 0)
              FROM credit_consumption
             WHERE idempotency_key LIKE %s
            """,
            [f"{run_id}-%"],
        )
        rows, keys, units = cr.fetchone()
        cr.execute(
            """
            SELECT COUNT(*) FROM (
                SELECT g.id
                  FROM credit_grant g
                  JOIN credit_consumption_allocation a ON a.grant_id = g.id
                 WHERE a.state = 'done'
              GROUP BY g.id, g.quantity
                HAVING SUM(a.quantity) > g.quantity
            ) over
            """
        )
        overdrawn = cr.fetchone()[0]
        return {
            "rows": rows,
            "distinct_keys": keys,
            "units": float(units),
            "accepted": accepted,
            "overdrawn_grants": overdrawn,
            "ok": rows == keys == accepted
            and float(units) == accepted
            and not overdrawn,
        }
    finally:
        cr.close()


# ----------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db, port, cron_threads=0, extra_args=(), log_name="bench-api-server"):
    """Odoo with ``--workers=2`` on ``port`` (127.0.0.1), ``cron_threads``
    cron workers, ``extra_args`` (e.g. the replica's); log in IC_LOCAL."""
    odoo_src = os.environ["ODOO_SRC"]
    log_path = os.path.join(os.environ.get("IC_LOCAL", "."), f"{log_name}.log")
    # the server's log stays open as long as the server runs
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            os.path.join(odoo_src, "odoo-bin"),
            "-c",
            os.environ["IC_ODOO_CONF"],
            "-d",
            db,
            f"--db-filter=^{db}$",
            "--workers=2",
            f"--max-cron-threads={cron_threads}",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--limit-time-real=600",
            "--limit-time-cpu=600",
            "--log-level=warn",
            *extra_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=odoo_src),
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"the Odoo server did not start (see {log_path})")


# ----------------------------------------------------------------------
# The client (a separate process: python bench/api_load.py client ...)
# ----------------------------------------------------------------------
def client(url, key, customers, run_id, seconds, threads=2):
    """Run the measurements and print one JSON object."""
    import threading
    import xmlrpc.client

    import requests

    counter = {"n": 0}
    lock = threading.Lock()

    def next_key():
        with lock:
            counter["n"] += 1
            return f"{run_id}-{counter['n']}"

    def events(partner_ids, size):
        return [
            {
                "customer": partner_ids[i % len(partner_ids)],
                "credit_type": TYPE_CODE,
                "quantity": 1,
                "idempotency_key": next_key(),
            }
            for i in range(size)
        ]

    def post(session, batch):
        response = session.post(
            f"{url}/api/credits/v1/consumptions", json={"events": batch}, timeout=600
        )
        response.raise_for_status()
        return response.json()["results"]

    def session():
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {key}"
        return s

    accepted = 0
    statuses = {}

    def load(partner_ids, size, duration=None, calls=None):
        """Events/s with ``threads`` keep-alive clients posting batches."""
        nonlocal accepted
        done = []

        def worker():
            s = session()
            count = 0
            stop = time.perf_counter() + duration if duration else None
            n = 0
            while (stop and time.perf_counter() < stop) or (calls and n < calls):
                results = post(s, events(partner_ids, size))
                for result in results:
                    statuses[result["status"]] = statuses.get(result["status"], 0) + 1
                count += sum(1 for r in results if r["status"] == "consumed")
                n += 1
            done.append(count)

        start = time.perf_counter()
        workers = [threading.Thread(target=worker) for _i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
        accepted += sum(done)
        return sum(done) / elapsed, sum(done), elapsed

    all_ids = customers["long"] + customers["new"]
    post(session(), events(all_ids, 10))  # warm-up: workers, caches
    accepted += 10
    out = {"sustained": {}, "batch_sizes": {}}
    for kind in ("long", "new"):
        rate, count, elapsed = load(customers[kind], 1000, duration=seconds)
        out["sustained"][kind] = {"rate": rate, "events": count, "seconds": elapsed}
    for size in (1, 10, 100, 1000):
        calls = max(10, min(50, 4000 // size))
        rate, count, elapsed = load(all_ids, size, calls=calls)
        out["batch_sizes"][size] = {"rate": rate, "events": count, "seconds": elapsed}
    # Replaying a batch consumes nothing more.
    s = session()
    batch = events(all_ids, 100)
    first = post(s, batch)
    accepted += sum(1 for r in first if r["status"] == "consumed")
    replay = post(s, batch)
    out["replay_duplicates"] = sum(1 for r in replay if r["status"] == "duplicate")
    # consume_credits over XML-RPC, one call per event, one client.
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)
    calls = 200
    start = time.perf_counter()
    for i in range(calls):
        models.execute_kw(
            os.environ["IC_BENCH_DB"],
            2,
            key,
            "res.partner",
            "consume_credits",
            [[all_ids[i % len(all_ids)]], TYPE_CODE, 1],
            {"idempotency_key": next_key()},
        )
    out["xmlrpc"] = {"rate": calls / (time.perf_counter() - start), "calls": calls}
    accepted += calls
    out["accepted"] = accepted
    out["statuses"] = statuses
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SIZES), default="small")
    parser.add_argument("--seconds", type=float)
    parser.add_argument(
        "--client-threads",
        type=int,
        default=4,
        help="keep-alive connections posting at once (a gateway's senders); "
        "batches touching the same customers wait for each other's locks, so "
        "more than the server's 2 workers keeps both busy",
    )
    args, _rest = parser.parse_known_args()
    db = os.environ["IC_BENCH_DB"]
    cfg = SIZES[args.scale]
    print(f"API load, scale {args.scale}: set-up ...", flush=True)
    data = setup(db, args.scale)
    port = _free_port()
    server = start_server(db, port)
    run_id = f"bench-api-{uuid.uuid4().hex[:10]}"
    try:
        result = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "client",
                f"http://127.0.0.1:{port}",
                data["key"],
                json.dumps(data["customers"]),
                run_id,
                str(args.seconds or cfg["seconds"]),
                str(args.client_threads),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ,
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    if result.returncode:
        print(result.stdout, result.stderr, file=sys.stderr)
        raise SystemExit("the client failed")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    check = ledger_check(db, run_id, out["accepted"])
    long_ = out["sustained"]["long"]
    new = out["sustained"]["new"]
    print(
        f"customers: {cfg['customers']} with {cfg['grants']} grants and "
        f"{cfg['history']} past consumptions each, {cfg['customers']} new; "
        f"server --workers=2, {args.client_threads} client threads, keep-alive"
    )
    print(f"{'measure':<58} {'events':>8} {'seconds':>8} {'events/s':>9}")
    for label, row in (
        ("batches of 1,000, long-history customers", long_),
        ("batches of 1,000, new customers", new),
    ):
        print(
            f"{label:<58} {row['events']:>8} {row['seconds']:>8.2f} {row['rate']:>9.0f}"
        )
    for size, row in out["batch_sizes"].items():
        label = f"batch size {size}, all customers"
        print(
            f"{label:<58} {row['events']:>8} {row['seconds']:>8.2f} {row['rate']:>9.0f}"
        )
    xr = out["xmlrpc"]
    label = "consume_credits over XML-RPC, one call per event"
    print(f"{label:<58} {xr['calls']:>8} {'':>8} {xr['rate']:>9.0f}")
    print(f"replayed batch of 100: {out['replay_duplicates']} duplicates")
    print(
        f"ledger: {check['rows']} rows for {check['accepted']} accepted events, "
        f"{check['distinct_keys']} distinct keys, {check['units']:.0f} units, "
        f"{check['overdrawn_grants']} grants overdrawn -> "
        f"{'OK' if check['ok'] and out['replay_duplicates'] == 100 else 'VIOLATION'}"
    )
    target = 5000
    ok = min(long_["rate"], new["rate"]) >= target
    print(f"target >= {target} events/s sustained: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        _cmd, url, key, customers, run_id, seconds, threads = sys.argv[1:8]
        client(url, key, json.loads(customers), run_id, float(seconds), int(threads))
    else:
        main()
