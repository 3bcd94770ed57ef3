"""Benchmark scenarios: the add-on's cost next to Odoo's own cost for the same
work, measured in the same run.

Each scenario is a function ``(env, size) -> dict(addon=seconds,
reference=seconds, label=str)``; it builds what it needs, times both sides
inside savepoints that are rolled back, and leaves the database as it found it.
``SCENARIOS`` lists them with their targets (ratio = add-on / reference).
"""

import statistics
import time
from contextlib import contextmanager
from datetime import date, timedelta

import psycopg2

from odoo import Command
from odoo.sql_db import connection_info_for
from odoo.tools import SQL

from .scenario_credits import TODAY

SIZES = {
    # "tiny" is for quick checks; "small" is the CI smoke test's
    # (tests/test_bench_smoke.py): it proves the harness works, its numbers
    # mean nothing. The dataset each scale runs on is in bench/dataset.py.
    "tiny": {"scale": "tiny", "invoices": 3, "repeats": 1},
    "small": {"scale": "small", "invoices": 20, "repeats": 1},
    "medium": {"scale": "medium", "invoices": 200, "repeats": 3},
    "large": {"scale": "large", "invoices": 1_000, "repeats": 3},
}


@contextmanager
def rolled_back(env):
    """Run a block in a savepoint that is always rolled back."""
    env.flush_all()
    savepoint = env.cr.savepoint(flush=False)
    savepoint.__enter__()
    try:
        yield
        env.flush_all()
    finally:
        savepoint.close(rollback=True)
        env.invalidate_all()


def vacuum(env, *tables):
    """VACUUM tables from a connection of its own (VACUUM cannot run inside
    the benchmark's transaction): rolled-back repeats leave dead row versions
    and index entries that a production table does not carry, autovacuum
    removing them, and that the next repeat would otherwise pay for.

    ``SKIP_LOCKED``: a table the benchmark's own transaction has locked (the
    CI smoke test builds and analyzes its dataset in the test's transaction)
    is left as it is instead of waiting for a lock that is never released."""
    _db, info = connection_info_for(env.cr.dbname)
    cnx = psycopg2.connect(**info)
    try:
        cnx.autocommit = True
        with cnx.cursor() as cur:
            for table in tables:
                cur.execute(SQL("VACUUM (SKIP_LOCKED) %s", SQL.identifier(table)).code)
    finally:
        cnx.close()


def timed(env, prepare, action, repeats):
    """Median of ``repeats`` timings of ``action(prepare())``, each rolled back."""
    times = []
    for _i in range(repeats):
        with rolled_back(env):
            data = prepare()
            env.flush_all()
            start = time.perf_counter()
            action(data)
            env.flush_all()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def _partner(env):
    partner = env["res.partner"].search([("name", "=", "Bench Customer")], limit=1)
    return partner or env["res.partner"].create({"name": "Bench Customer"})


def _draft_invoices(env, count, term, amount=1200.0):
    partner = _partner(env)
    return env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date(2026, 1, 10),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "bench", "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
            for _i in range(count)
        ]
    )


def _terms(env):
    Term = env["account.payment.term"]
    scheme = Term.search([("name", "=", "Bench 12 installments")], limit=1)
    if not scheme:
        scheme = Term.create(
            {
                "name": "Bench 12 installments",
                "installment_enabled": True,
                "installment_count": 12,
                "installment_first_type": "after_days",
                "installment_first_days": 30,
            }
        )
    native = Term.search([("name", "=", "Bench native 12 lines")], limit=1)
    if not native:
        percents = [8.33] * 11 + [8.37]
        native = Term.create(
            {
                "name": "Bench native 12 lines",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": p, "nb_days": 30 * (i + 1)}
                    )
                    for i, p in enumerate(percents)
                ],
            }
        )
    return scheme, native


def scenario_post(env, size):
    """1. Posting invoices with a 12-installment scheme vs a native 12-line term."""
    scheme, native = _terms(env)
    n, repeats = size["invoices"], size["repeats"]
    addon = timed(
        env, lambda: _draft_invoices(env, n, scheme), lambda m: m.action_post(), repeats
    )
    reference = timed(
        env, lambda: _draft_invoices(env, n, native), lambda m: m.action_post(), repeats
    )
    return {"addon": addon, "reference": reference, "size": f"{n} invoices"}


def _pay_all(env, moves):
    env["account.payment.register"].with_context(
        active_model="account.move", active_ids=moves.ids
    ).create(
        {"group_payment": False, "payment_date": date(2026, 1, 20)}
    )._create_payments()


def scenario_pay(env, size):
    """2. Full payments on invoices carrying 24-installment plans vs no plans."""
    n, repeats = size["invoices"], size["repeats"]
    immediate = env.ref("account.account_payment_term_immediate")

    def with_plans():
        moves = _draft_invoices(env, n, immediate, amount=2400.0)
        moves.action_post()
        for move in moves:
            move.create_installment_plan(count=24, first_due_date=date(2026, 2, 10))
        return moves

    def without_plans():
        moves = _draft_invoices(env, n, immediate, amount=2400.0)
        moves.action_post()
        return moves

    addon = timed(env, with_plans, lambda m: _pay_all(env, m), repeats)
    reference = timed(env, without_plans, lambda m: _pay_all(env, m), repeats)
    return {"addon": addon, "reference": reference, "size": f"{n} invoices"}


def _due_count(env, today):
    """Installments the daily action has to flip on ``today``."""
    env.flush_all()
    env.cr.execute(
        SQL(
            "SELECT COUNT(*) FROM installment_plan_line "
            "WHERE state IN ('pending', 'partial') AND due_date < %s",
            today,
        )
    )
    return env.cr.fetchone()[0]


def _line_count(env):
    env.cr.execute("SELECT COUNT(*) FROM installment_plan_line")
    return env.cr.fetchone()[0]


def scenario_daily(env, size):
    """3. The daily action over the dataset's installments, those that fell
    due yesterday becoming late, vs one raw SQL UPDATE of the same rows."""
    repeats = size["repeats"]
    late = _due_count(env, TODAY)
    times_addon, times_ref = [], []
    tables = ("installment_plan_line", "installment_plan")
    for _i in range(repeats):
        vacuum(env, *tables)
        with rolled_back(env):
            start = time.perf_counter()
            flipped = env["installment.plan.line"]._flip_late_installments(today=TODAY)
            env.flush_all()
            times_addon.append(time.perf_counter() - start)
            assert len(flipped) == late, (len(flipped), late)
        vacuum(env, *tables)
        with rolled_back(env):
            start = time.perf_counter()
            env.cr.execute(
                SQL(
                    "UPDATE installment_plan_line SET state = 'late' "
                    "WHERE state IN ('pending', 'partial') AND due_date < %s",
                    TODAY,
                )
            )
            times_ref.append(time.perf_counter() - start)
            assert env.cr.rowcount == late, (env.cr.rowcount, late)
    return {
        "addon": statistics.median(times_addon),
        "reference": statistics.median(times_ref),
        "size": f"{_line_count(env)} lines, {late} late",
    }


def _aging_times(env, size, as_of):
    """Median seconds of the aging pivot's read_group (customers x buckets)
    as of ``as_of``, of the same aggregate over the report's SQL by hand, and
    of a naive aggregate over the installments' stored residuals (no plain
    invoices, no credits, no as-of reconstruction)."""
    times_addon, times_ref, times_naive = [], [], []
    report = env["installment.report.aging"].with_context(installment_aging_date=as_of)
    for _i in range(size["repeats"]):
        env.invalidate_all()
        start = time.perf_counter()
        groups = report._read_group(
            [], ["partner_id", "bucket"], ["amount_residual:sum"]
        )
        times_addon.append(time.perf_counter() - start)
        start = time.perf_counter()
        env.cr.execute(
            SQL(
                "SELECT partner_id, bucket, SUM(amount_residual) "
                "FROM (%s) AS aging GROUP BY partner_id, bucket",
                report._table_query,
            )
        )
        rows = env.cr.fetchall()
        times_ref.append(time.perf_counter() - start)
        assert len(rows) == len(groups), (len(rows), len(groups))
        start = time.perf_counter()
        env.cr.execute(
            SQL(
                """
                SELECT partner_id,
                       CASE WHEN due_date >= %(d)s THEN 'not_due'
                            WHEN %(d)s - due_date <= 30 THEN '1_30'
                            WHEN %(d)s - due_date <= 60 THEN '31_60'
                            WHEN %(d)s - due_date <= 90 THEN '61_90'
                            ELSE '90_plus' END AS bucket,
                       SUM(amount_residual)
                  FROM installment_plan_line
                 WHERE plan_state = 'active' AND state != 'paid'
              GROUP BY 1, 2
                """,
                d=as_of,
            )
        )
        env.cr.fetchall()
        times_naive.append(time.perf_counter() - start)
    return {
        "addon": statistics.median(times_addon),
        "reference": statistics.median(times_ref),
        "naive": statistics.median(times_naive),
        "groups": len(groups),
    }


def scenario_aging(env, size):
    """4. Aging pivot for today (the default) vs the same aggregate in raw SQL.

    The reference runs the report's own SQL (its ``_table_query``) grouped by
    hand, so the ratio is what the ORM read path adds. Today the report reads
    the stored residuals (``_aging_from_stored``); scenario 4b compares it
    with the naive aggregate, 4c measures a past date (the rebuild).
    """
    times = _aging_times(env, size, TODAY)
    return {
        "addon": times["addon"],
        "reference": times["reference"],
        "size": f"{_line_count(env)} lines, {times['groups']} groups",
    }


def scenario_aging_vs_naive(env, size):
    """4b. Today's aging pivot vs a naive aggregate over the installments'
    stored residuals: target <= 2x (and <= 1.0 s at the large scale)."""
    times = _aging_times(env, size, TODAY)
    return {
        "addon": times["addon"],
        "reference": times["naive"],
        "size": f"{_line_count(env)} lines, {times['groups']} groups",
    }


def scenario_aging_past(env, size):
    """4c. Aging pivot at a past date (residuals rebuilt from the
    reconciliations) vs the same aggregate over the report's SQL by hand."""
    times = _aging_times(env, size, TODAY - timedelta(days=45))
    return {
        "addon": times["addon"],
        "reference": times["reference"],
        "size": f"{_line_count(env)} lines, {times['groups']} groups "
        f"(naive {times['naive']:.3f}s)",
    }


def scenario_reminders(env, size):
    """6. Reminder run over the dataset: the installments that fell due
    yesterday; emails queued per second."""
    times, emails, targets = [], 0, 0
    for _i in range(size["repeats"]):
        with rolled_back(env):
            # Rolled-back repeats leave dead rows the planner's statistics
            # do not know of: refresh them before timing.
            env.cr.execute("ANALYZE installment_plan_line")
            env.cr.execute("ANALYZE installment_reminder_log")
            before = env["mail.mail"].search_count([])
            start = time.perf_counter()
            targets = env["installment.reminder.run"]._cron_send_reminders(today=TODAY)
            env.flush_all()
            times.append(time.perf_counter() - start)
            emails = env["mail.mail"].search_count([]) - before
    elapsed = statistics.median(times)
    rate = emails / elapsed if elapsed else 0.0
    return {
        "addon": elapsed,
        "reference": None,
        "rate": rate,
        "target_rate": 50.0,
        "size": f"{targets} targets, {emails} emails",
    }


def scenario_credits(env, size):
    from .scenario_credits import scenario_credits as run

    return run(env, size, size["scale"])


def scenario_revenue(env, size):
    from .scenario_revenue import scenario_revenue as run

    return run(env, size)


SCENARIOS = [
    ("1. post with 12-installment scheme vs native 12-line term", scenario_post, 1.3),
    ("2. full payments, 24-installment plans vs none", scenario_pay, 1.2),
    ("3. daily late flip vs raw SQL UPDATE", scenario_daily, 2.0),
    ("4. aging pivot today, read_group vs hand-written SQL", scenario_aging, 1.5),
    ("4b. aging pivot today vs naive stored aggregate", scenario_aging_vs_naive, 2.0),
    ("4c. aging pivot 45 days ago vs hand-written SQL", scenario_aging_past, 1.5),
    ("5. consume_credits, long history vs new customers", scenario_credits, 1.2),
    ("6. reminder run (emails queued per second)", scenario_reminders, None),
    ("7. daily credit revenue entry (consumptions/s)", scenario_revenue, None),
]
