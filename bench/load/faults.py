"""Faults under load, with nothing lost: ``./dev bench --load --faults``.

Everything runs on local processes this script starts and stops itself:

1. a disposable PostgreSQL 15 cluster (``.local/pgfault``, port 54349, made
   with initdb) holding ``ic_prod_fault``, a copy of the benchmark database
   (pg_dump | pg_restore, its filestore copied): the project's cluster, which
   other databases share, is never restarted;
2. the load test's data plus customers with late installments (work for the
   reminder run), Odoo with ``--workers=2 --max-cron-threads=1`` against it,
   its SMTP server pointed at a closed port (every email fails);
3. Locust running the production mix (``locustfile.py``) while, in order:
   a worker is SIGKILLed while PostgreSQL runs one of its consumption
   inserts (a batch in flight); the daily action (late flip + reminders) is
   triggered and the cron worker is SIGKILLed while it writes reminders;
   PostgreSQL is restarted (fast shutdown); the daily action and the mail
   queue are triggered again (their next run);
4. what the clients saw (Locust, per request and cause), whether the crons
   finished their next run, the mail queue's failures, and the invariants
   checker on the database.
"""

import os
import shutil
import signal
import subprocess
import threading
import time

import psutil

from bench.api_load import start_server
from bench.load import fixture
from bench.load.run import (
    MAX_SECONDS,
    free_port,
    read_stats,
    report,
    run_locust,
    stop_server,
    warm_up,
)

DB = "ic_prod_fault"
PGBIN = os.environ.get("IC_PGBIN", "/usr/lib/postgresql/15/bin")


def _as_pg(cmd, **kwargs):
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)


class FaultCluster:
    def __init__(self, local, port):
        self.local = local
        self.port = port
        self.data = os.path.join(local, "pgfault")
        self.run = os.path.join(local, "pgrun")
        self.log = os.path.join(local, "postgresql-fault.log")

    def pg(self, tool, *args):
        return _as_pg([os.path.join(PGBIN, tool), *args])

    def psql(self, sql, db="postgres"):
        out = self.pg(
            "psql",
            "-h",
            self.run,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
            "-tAc",
            sql,
        )
        return out.stdout.strip()

    def start(self):
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            os.makedirs(self.data, exist_ok=True)
            if os.getuid() == 0:
                shutil.chown(self.data, "postgres", "postgres")
            self.pg(
                "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        if os.getuid() == 0 and not os.path.exists(self.log):
            open(self.log, "a").close()
            shutil.chown(self.log, "postgres")
        self.pg(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -k {self.run} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100",
            "start",
        )
        if self.psql("SELECT 1 FROM pg_roles WHERE rolname='odoo'") != "1":
            self.psql("CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo'")

    def restart_fast(self):
        self.pg(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            "60",
            "-m",
            "fast",
            "restart",
        )

    def stop(self):
        self.pg("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    def copy_database(self, source, primary_port):
        self.pg(
            "dropdb",
            "-h",
            self.run,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "--if-exists",
            "--force",
            DB,
        )
        self.pg(
            "createdb",
            "-h",
            self.run,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-O",
            "odoo",
            DB,
        )
        dump = os.path.join(self.local, f"{DB}.dump")
        self.pg(
            "pg_dump",
            "-h",
            self.run,
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-Fc",
            "-f",
            dump,
            source,
        )
        self.pg(
            "pg_restore",
            "-h",
            self.run,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "--no-owner",
            "--role=odoo",
            "-d",
            DB,
            dump,
        )
        os.unlink(dump)
        store = os.path.join(self.local, "filestore", "filestore")
        shutil.rmtree(os.path.join(store, DB), ignore_errors=True)
        if os.path.isdir(os.path.join(store, source)):
            shutil.copytree(os.path.join(store, source), os.path.join(store, DB))


def _connection_owners(server):
    """Local TCP port -> pid, for the worker processes of ``server`` (the
    application_name of a connection may be the master's, opened before the
    fork; the socket tells which process uses it)."""
    owners = {}
    for child in psutil.Process(server.pid).children():
        try:
            for conn in child.connections(kind="tcp"):
                if conn.laddr:
                    owners[conn.laddr.port] = child.pid
        except psutil.Error:
            continue
    return owners


def kill_worker_running(cluster, server, tables, modes, timeout=20):
    """SIGKILL the Odoo process whose open transaction holds one of ``modes``
    on one of ``tables`` (e.g. the row locks a consumption batch takes on its
    grants, or the inserts of the reminder run's claims: held until commit,
    so the process dies in the middle of that work). Polls pg_locks every few
    milliseconds on one connection; return what was in flight, or None."""
    import psycopg2

    conn = psycopg2.connect(
        host="127.0.0.1", port=cluster.port, user="postgres", dbname=DB
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            deadline = time.time() + timeout
            while time.time() < deadline:
                cr.execute(
                    """
                    SELECT a.client_port, c.relname, l.mode,
                           left(regexp_replace(a.query, '\\s+', ' ', 'g'), 60)
                      FROM pg_locks l
                      JOIN pg_class c ON c.oid = l.relation
                      JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE a.datname = %(db)s
                       AND l.granted
                       AND c.relname = ANY(%(tables)s)
                       AND l.mode = ANY(%(modes)s)
                       AND a.client_port IS NOT NULL
                    """,
                    {"db": DB, "tables": list(tables), "modes": list(modes)},
                )
                rows = cr.fetchall()
                owners = _connection_owners(server) if rows else {}
                for client_port, table, mode, query in rows:
                    pid = owners.get(client_port)
                    if not pid:
                        continue
                    cr.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                        " AND state IN ('active', 'idle in transaction')"
                        " AND application_name LIKE 'odoo-%%'",
                        (DB,),
                    )
                    in_flight = cr.fetchone()[0]
                    os.kill(pid, signal.SIGKILL)
                    return {
                        "pid": pid,
                        "query": f"{mode} on {table}, last statement: {query}",
                        "active_backends": in_flight,
                    }
                time.sleep(0.005)
    finally:
        conn.close()
    return None


def trigger_cron(xmlid):
    cr, env = fixture._env(DB)
    try:
        cron = env.ref(xmlid)
        cron._trigger()
        cr.commit()
        return cron.lastcall
    finally:
        cr.close()


def cron_state(xmlid):
    cr, env = fixture._env(DB)
    try:
        cron = env.ref(xmlid)
        return cron.lastcall, cron.failure_count
    finally:
        cr.close()


def main(args):
    local = os.environ.get("IC_LOCAL", ".")
    source = os.environ["IC_BENCH_DB"]
    seconds = min(args.seconds, MAX_SECONDS)
    cluster = FaultCluster(local, int(os.environ.get("IC_PGFAULT_PORT", "54349")))
    print(f"faults: disposable cluster on port {cluster.port}, copy of {source}")
    cluster.start()
    cluster.copy_database(source, int(os.environ.get("IC_PGPORT", "54329")))
    os.environ["IC_LOAD_DB_PORT"] = str(cluster.port)
    data = fixture.setup(DB, late=args.late)
    import json
    import uuid

    data_path = os.path.join(local, f"load-fault-{uuid.uuid4().hex[:8]}.json")
    with open(data_path, "w") as handle:
        json.dump(data, handle)
    port = free_port()
    server = start_server(
        DB,
        port,
        1,
        [f"--db_port={cluster.port}", "--smtp=127.0.0.1", "--smtp-port=9"],
        log_name="bench-fault-server",
    )
    url = f"http://127.0.0.1:{port}"
    faults = []
    csv_prefix = os.path.join(local, "load-fault")
    result = {}
    daily = "installment_credit.ir_cron_installment_daily"
    mail = "mail.ir_cron_mail_scheduler_action"
    try:
        warm_up(url, data)
        locust = threading.Thread(
            target=lambda: result.update(
                run=run_locust(
                    url, data_path, args.users, args.spawn_rate, seconds, csv_prefix
                )
            )
        )
        locust.start()
        start = time.time()
        time.sleep(5)
        hit = kill_worker_running(
            cluster,
            server,
            ["credit_grant", "credit_consumption"],
            ["RowShareLock", "RowExclusiveLock"],
            timeout=15,
        )
        faults.append(
            (
                "SIGKILL an HTTP worker during a consumption batch",
                hit,
                time.time() - start,
            )
        )
        time.sleep(3)
        before, _failures = cron_state(daily)
        trigger_cron(daily)
        hit = kill_worker_running(
            cluster,
            server,
            ["installment_reminder_log"],
            ["RowExclusiveLock"],
            timeout=30,
        )
        faults.append(
            (
                "SIGKILL the cron worker during the reminder run",
                hit,
                time.time() - start,
            )
        )
        time.sleep(3)
        t = time.time()
        cluster.restart_fast()
        faults.append(
            (
                "PostgreSQL restart, fast shutdown",
                {"query": f"down {time.time() - t:.1f} s"},
                time.time() - start,
            )
        )
        time.sleep(3)
        trigger_cron(daily)
        trigger_cron(mail)
        faults.append(
            (
                "next run: daily action and mail queue (no SMTP)",
                {"query": "triggered"},
                time.time() - start,
            )
        )
        locust.join()
        deadline = time.time() + 90
        while time.time() < deadline:
            lastcall, failures = cron_state(daily)
            if lastcall != before:
                break
            time.sleep(2)
        daily_outcome = cron_state(daily)
    finally:
        stop_server(server)
        os.unlink(data_path)
    print(f"\n{'fault':<52} {'at':>5}  in flight")
    for name, hit, at in faults:
        what = (
            "nothing matched (no kill)"
            if not hit
            else (
                f"pid {hit['pid']}, {hit['active_backends']} active queries, "
                f"killed in: {hit['query']}"
                if "pid" in hit
                else hit["query"]
            )
        )
        print(f"{name:<52} {at:>4.0f}s  {what}")
    stats, failures = read_stats(csv_prefix)
    lines, _ratios = report(stats, failures, seconds)
    print("\nwhat the clients saw:")
    print("\n".join(lines))
    print(
        f"\ndaily action after its next run: last run {daily_outcome[0]}, "
        f"consecutive failures {daily_outcome[1]}"
    )
    from odoo.tools import SQL

    from odoo.addons.installment_credit.tools.invariants import check_invariants

    cr, env = fixture._env(DB)
    try:
        env.cr.execute(
            SQL("SELECT state, count(*) FROM mail_mail GROUP BY state ORDER BY state")
        )
        print(f"mail queue: {dict(env.cr.fetchall())}")
        env.cr.execute(
            SQL(
                "SELECT delivery_state, count(*) FROM installment_reminder_log "
                "GROUP BY delivery_state ORDER BY delivery_state"
            )
        )
        print(f"reminders by delivery state: {dict(env.cr.fetchall())}")
        results = check_invariants(env, out=print)
    finally:
        cr.close()
    cluster.stop()
    violations = sum(len(v) for v in results.values())
    print(f"invariants: {'all hold' if not violations else f'{violations} violations'}")
    return 1 if violations else 0
