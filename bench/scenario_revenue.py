"""Scenario 7: the daily credit revenue entry (credit.revenue.run) of a day
with many consumptions: one posted entry built with set-based statements.

A company recognising credit revenue on use, ``grants`` deferred grants of
``customers`` customers and ``consumptions`` consumptions dated yesterday
(inserted with SQL: the consumption path is scenario 5); timed: the run that
books that day. Reported as consumptions recognised per second."""

import statistics
import time
from datetime import timedelta

from odoo import Command
from odoo.tools import SQL

from .scenario_credits import TODAY, _credit_type

REVENUE_SIZES = {
    "tiny": {"customers": 10, "grants": 20, "consumptions": 500},
    "small": {"customers": 100, "grants": 1_000, "consumptions": 10_000},
    "medium": {"customers": 1_000, "grants": 10_000, "consumptions": 10_000},
    "large": {"customers": 1_000, "grants": 10_000, "consumptions": 100_000},
}


def _setup(env, cfg):
    """Deferred grants and one day of consumptions; return the company and
    the day."""
    company = env.company
    Account = env["account.account"]
    deferred = Account.create(
        {
            "name": "Bench deferred",
            "code": "BD2098",
            "account_type": "liability_current",
        }
    )
    breakage = Account.create(
        {"name": "Bench breakage", "code": "BB4098", "account_type": "income"}
    )
    income = Account.search(
        [*Account._check_company_domain(company), ("account_type", "=", "income")],
        limit=1,
    )
    company.write(
        {
            "credit_revenue_on_use": True,
            "credit_deferred_account_id": deferred.id,
            "credit_breakage_account_id": breakage.id,
        }
    )
    plan = env["account.analytic.plan"].create({"name": "Bench channels"})
    analytic = env["account.analytic.account"].create(
        {"name": "Bench web", "plan_id": plan.id}
    )
    ctype = _credit_type(env)
    partners = env["res.partner"].create(
        [{"name": f"Bench revenue {i}"} for i in range(cfg["customers"])]
    )
    per_partner = max(cfg["grants"] // cfg["customers"], 1)
    grants = env["credit.grant"].create(
        [
            {
                "partner_id": partner.id,
                "credit_type_id": ctype.id,
                "quantity": 1_000_000,
                "date_start": TODAY - timedelta(days=10),
                "date_expiry": TODAY + timedelta(days=60 + i),
            }
            for partner in partners
            for i in range(per_partner)
        ]
    )
    env.flush_all()
    # Sold on a deferred invoice line at 0.03 a unit (values set as
    # credit.grant._revenue_set_values does), half with an analytic split.
    env.cr.execute(
        SQL(
            """
            UPDATE credit_grant
               SET revenue_deferred = TRUE, revenue_value = 30000,
                   revenue_unit_value = 0.03,
                   revenue_deferred_account_id = %(deferred)s,
                   revenue_account_id = %(income)s,
                   revenue_analytic_distribution = CASE WHEN mod(id, 2) = 0
                       THEN NULL ELSE %(analytic)s::jsonb END
             WHERE id = ANY(%(ids)s)
            """,
            deferred=deferred.id,
            income=income.id,
            analytic=f'{{"{analytic.id}": 100.0}}',
            ids=grants.ids,
        )
    )
    day = TODAY - timedelta(days=1)
    # The dataset's older consumptions were seen by earlier runs.
    env.cr.execute(
        "UPDATE credit_consumption_allocation SET revenue_booked = FALSE "
        "WHERE revenue_booked IS NULL"
    )
    env.cr.execute(
        SQL(
            """
            WITH src AS (
                SELECT n, (%(ids)s::int[])[1 + mod(n, %(count)s)] AS grant_id
                  FROM generate_series(0, %(total)s - 1) AS n
            ), cons AS (
                INSERT INTO credit_consumption (partner_id, company_id,
                       credit_type_id, quantity, date, state, reference,
                       create_uid, write_uid, create_date, write_date)
                SELECT g.partner_id, g.company_id, g.credit_type_id, 1 + mod(src.n, 3),
                       %(day)s, 'done', 'bench revenue ' || src.grant_id,
                       1, 1, now(), now()
                  FROM src JOIN credit_grant g ON g.id = src.grant_id
             RETURNING id, reference, quantity
            )
            INSERT INTO credit_consumption_allocation (consumption_id, grant_id,
                   quantity, state, company_id, date,
                   create_uid, write_uid, create_date, write_date)
            SELECT cons.id, substr(cons.reference, 15)::int, cons.quantity, 'done',
                   %(company)s, %(day)s, 1, 1, now(), now()
              FROM cons
            """,
            ids=grants.ids,
            count=len(grants),
            total=cfg["consumptions"],
            day=day,
            company=company.id,
        )
    )
    env.cr.execute("ANALYZE credit_consumption_allocation")
    # Odoo builds its field trigger trees once per process, on the first
    # journal entry created: not the run's cost (a server has them warm).
    warm = env["account.move"].create(
        {
            "move_type": "entry",
            "date": day,
            "line_ids": [
                Command.create({"account_id": income.id, "debit": 1.0}),
                Command.create({"account_id": deferred.id, "credit": 1.0}),
            ],
        }
    )
    warm.action_post()
    env.invalidate_all()
    return company, day


def scenario_revenue(env, size):
    """7. Daily credit revenue entry: consumptions recognised per second."""
    from .scenarios import rolled_back

    cfg = REVENUE_SIZES[size["scale"]]
    times, lines = [], 0
    for _i in range(size["repeats"]):
        with rolled_back(env):
            company, day = _setup(env, cfg)
            env.flush_all()
            start = time.perf_counter()
            moves = env["credit.revenue.run"]._recognise(company, day)
            env.flush_all()
            times.append(time.perf_counter() - start)
            assert len(moves) == 1 and moves.state == "posted", moves
            lines = len(moves.line_ids)
    elapsed = statistics.median(times)
    return {
        "addon": elapsed,
        "reference": None,
        "rate": cfg["consumptions"] / elapsed if elapsed else 0.0,
        "target_rate": 5_000.0,
        "size": f"{cfg['consumptions']} consumptions, 1 entry of {lines} lines",
    }
