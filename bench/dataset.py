"""The benchmark dataset: years of invoices with installment plans, customers
with credits and a reminder history, built once per bench database.

Scenarios measure the add-on *on top of* this dataset, so their costs are
those of a database that has been in use for a while, not of an empty one.

Generation is fast because the ORM is not what is measured here: one
template invoice (with its plan) and one template credit history are made
through the ORM, so that every column holds what Odoo itself writes, then
copied with set-based ``INSERT ... SELECT`` statements, each copy with its
own customer, name and dates.

Shape (``large``): 10,000 customers with an email address; 10 invoices each
(100,000 posted invoices, one every 70 days going back from ``TODAY``), each
with a 10-installment monthly plan (1,000,000 installment lines). Installments
due before yesterday are late and were reminded; for 2,000 customers, 5
installments each fell due yesterday and were neither flipped to late nor
reminded (10,000 lines: the daily action's and the reminder run's work).
Every customer has 3 credit grants and 20 past consumptions; 10 more
customers carry a long credit history (see ``scenario_credits``).
"""

import logging
import time
from datetime import timedelta

from odoo import Command
from odoo.tools import SQL

from .scenario_credits import (
    CREDIT_SIZES,
    HISTORY_PREFIX,
    TODAY,
    _credit_type,
    _customers,
)

_logger = logging.getLogger(__name__)

DATASET_SIZES = {
    "tiny": {"customers": 10, "invoices_per_customer": 10, "reminded_customers": 2},
    "small": {"customers": 200, "invoices_per_customer": 10, "reminded_customers": 40},
    "medium": {
        "customers": 2_000,
        "invoices_per_customer": 10,
        "reminded_customers": 400,
    },
    "large": {
        "customers": 10_000,
        "invoices_per_customer": 10,
        "reminded_customers": 2_000,
    },
}
INSTALLMENTS = 10
JUST_LATE_PER_CUSTOMER = 5
DAYS_BETWEEN_INVOICES = 70
MARKER = "installment_credit.bench_dataset"
CUSTOMER_PREFIX = "Bench dataset customer"
RULE_NAME = "Bench: overdue notice"


def dataset(env):
    """The dataset's description, or None when it was not built."""
    value = env["ir.config_parameter"].sudo().get_param(MARKER)
    if not value:
        return None
    scale = value.split(":")[0]
    return dict(DATASET_SIZES[scale], scale=scale)


def ensure_dataset(env, scale):
    """Build the dataset of ``scale`` unless it is there; never commits."""
    existing = dataset(env)
    if existing:
        if existing["scale"] != scale:
            raise SystemExit(
                f"This database holds the {existing['scale']} dataset; run the "
                f"{scale} scale on another database (IC_BENCH_DB)."
            )
        return existing
    size = dict(DATASET_SIZES[scale], scale=scale)
    start = time.perf_counter()
    customers = _make_customers(env, size["customers"])
    template = _template_invoice(env, customers[0])
    _clone_invoices(env, template, customers, size)
    _make_just_late(env, size)
    _make_reminder_history(env)
    _clone_credits(env, customers)
    cfg = CREDIT_SIZES[scale]
    _customers(
        env,
        _credit_type(env),
        cfg["customers"],
        cfg["grants"],
        cfg["history"],
        HISTORY_PREFIX,
    )
    for table in (
        "account_move",
        "account_move_line",
        "installment_plan",
        "installment_plan_line",
        "installment_reminder_log",
        "credit_grant",
        "credit_consumption",
        "credit_consumption_allocation",
    ):
        env.cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
    env.invalidate_all()
    env["ir.config_parameter"].sudo().set_param(MARKER, f"{scale}:{TODAY}")
    _logger.info("bench dataset %s built in %.0f s", scale, time.perf_counter() - start)
    return size


def _make_customers(env, count):
    return env["res.partner"].create(
        [
            {
                "name": f"{CUSTOMER_PREFIX} {i:05d}",
                "email": f"customer{i}@bench.example.com",
                "is_company": True,
            }
            for i in range(count)
        ]
    )


def _template_invoice(env, customer):
    """One posted invoice dated ``TODAY`` with a 10-installment monthly plan."""
    move = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": customer.id,
            "invoice_date": TODAY,
            "invoice_payment_term_id": env.ref(
                "account.account_payment_term_immediate"
            ).id,
            "invoice_line_ids": [
                Command.create({"name": "bench", "price_unit": 1000.0, "tax_ids": []})
            ],
        }
    )
    move.action_post()
    move.create_installment_plan(
        count=INSTALLMENTS, first_due_date=TODAY + timedelta(days=31)
    )
    env.flush_all()
    return move


def _columns(env, table):
    env.cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name != 'id' ORDER BY ordinal_position",
            table,
        )
    )
    return [row[0] for row in env.cr.fetchall()]


def _copy_rows(env, table, mapping, join, overrides):
    """``INSERT INTO table`` one copy of each source row per mapping row:
    ``mapping`` is a temporary table aliased ``m`` holding ``new_id``;
    ``join`` the condition between it and the source rows ``src``; every
    column not in ``overrides`` (column -> SQL) is copied as it is."""
    columns = _columns(env, table)
    select = [
        overrides.get(column, SQL("src.%s", SQL.identifier(column)))
        for column in columns
    ]
    env.cr.execute(
        SQL(
            "INSERT INTO %(table)s (id, %(columns)s) "
            "SELECT m.new_id, %(select)s FROM %(table)s src JOIN %(map)s m ON %(join)s",
            table=SQL.identifier(table),
            columns=SQL(", ").join(SQL.identifier(column) for column in columns),
            select=SQL(", ").join(select),
            map=SQL.identifier(mapping),
            join=join,
        )
    )
    return env.cr.rowcount


def _clone_invoices(env, template, customers, size):
    """Copies ``1 .. n-1`` of the template invoice, its journal items, its
    plan and its installments: copy ``i`` belongs to customer ``i mod C`` and
    is dated ``(i div C) * 70`` days before ``TODAY``."""
    count = size["customers"] * size["invoices_per_customer"]
    plan = template.installment_plan_ids
    env.cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_move_map ON COMMIT DROP AS
            SELECT g.i, nextval(pg_get_serial_sequence('account_move', 'id')) AS new_id,
                   (%(customers)s::int[])[1 + mod(g.i, %(n)s)] AS partner_id,
                   (g.i / %(n)s) * %(step)s AS days_back,
                   'BENCH/' || lpad(g.i::text, 7, '0') AS name
              FROM generate_series(1, %(count)s - 1) AS g(i);
            CREATE TEMP TABLE bench_line_map ON COMMIT DROP AS
            SELECT l.id AS old_id, m.new_id AS move_id, m.partner_id, m.days_back,
                   m.name, nextval(pg_get_serial_sequence('account_move_line', 'id'))
                        AS new_id
              FROM account_move_line l, bench_move_map m
             WHERE l.move_id = %(move)s;
            CREATE TEMP TABLE bench_plan_map ON COMMIT DROP AS
            SELECT m.new_id AS move_id, m.partner_id, m.days_back, m.name,
                   nextval(pg_get_serial_sequence('installment_plan', 'id')) AS new_id
              FROM bench_move_map m;
            CREATE TEMP TABLE bench_installment_map ON COMMIT DROP AS
            SELECT pl.id AS old_id, m.new_id AS plan_id, m.move_id, m.partner_id,
                   m.days_back,
                   nextval(pg_get_serial_sequence('installment_plan_line', 'id'))
                        AS new_id
              FROM installment_plan_line pl, bench_plan_map m
             WHERE pl.plan_id = %(plan)s;
            """,
            customers=customers.ids,
            n=len(customers),
            step=DAYS_BETWEEN_INVOICES,
            count=count,
            move=template.id,
            plan=plan.id,
        )
    )

    def shifted(column):
        return SQL("src.%s - m.days_back", SQL.identifier(column))

    _copy_rows(
        env,
        "account_move",
        "bench_move_map",
        SQL("src.id = %s", template.id),
        {
            "name": SQL("m.name"),
            "payment_reference": SQL("m.name"),
            "sequence_prefix": SQL("'BENCH/'"),
            "sequence_number": SQL("m.i"),
            "partner_id": SQL("m.partner_id"),
            "commercial_partner_id": SQL("m.partner_id"),
            "partner_shipping_id": SQL("m.partner_id"),
            "invoice_partner_display_name": SQL("'Bench customer ' || m.partner_id"),
            "date": shifted("date"),
            "invoice_date": shifted("invoice_date"),
            "invoice_date_due": shifted("invoice_date_due"),
            "installment_next_due_date": shifted("installment_next_due_date"),
        },
    )
    _copy_rows(
        env,
        "account_move_line",
        "bench_line_map",
        SQL("src.id = m.old_id"),
        {
            "move_id": SQL("m.move_id"),
            "move_name": SQL("m.name"),
            "partner_id": SQL("m.partner_id"),
            "date": shifted("date"),
            "invoice_date": shifted("invoice_date"),
            "date_maturity": shifted("date_maturity"),
        },
    )
    _copy_rows(
        env,
        "installment_plan",
        "bench_plan_map",
        SQL("src.id = %s", plan.id),
        {
            "move_id": SQL("m.move_id"),
            "partner_id": SQL("m.partner_id"),
            "name": SQL("'Installments of ' || m.name"),
        },
    )
    _copy_rows(
        env,
        "installment_plan_line",
        "bench_installment_map",
        SQL("src.id = m.old_id"),
        {
            "plan_id": SQL("m.plan_id"),
            "move_id": SQL("m.move_id"),
            "partner_id": SQL("m.partner_id"),
            "due_date": shifted("due_date"),
        },
    )


def _make_just_late(env, size):
    """Installments due before ``TODAY`` are late (earlier runs flipped them;
    the template's states were computed on the real date, hence the reset);
    for the first ``reminded_customers`` customers, the next installment
    of their 5 most recent plans fell due yesterday and is still pending.
    Plan totals follow with one statement."""
    yesterday = TODAY - timedelta(days=1)
    env.cr.execute(
        SQL(
            """
            UPDATE installment_plan_line
               SET state = CASE WHEN due_date < %(today)s THEN 'late' ELSE 'pending' END
             WHERE state != 'paid';
            WITH customers AS (
                SELECT id FROM res_partner
                 WHERE name LIKE %(prefix)s ORDER BY name LIMIT %(reminded)s
            ), recent AS (
                SELECT p.id,
                       row_number() OVER (PARTITION BY p.partner_id
                                          ORDER BY m.invoice_date DESC) AS rank
                  FROM installment_plan p
                  JOIN account_move m ON m.id = p.move_id
                 WHERE p.partner_id IN (SELECT id FROM customers)
            ), next_line AS (
                SELECT DISTINCT ON (l.plan_id) l.id
                  FROM installment_plan_line l
                  JOIN recent ON recent.id = l.plan_id AND recent.rank <= %(per)s
                 WHERE l.due_date >= %(today)s
                 ORDER BY l.plan_id, l.due_date
            )
            UPDATE installment_plan_line l SET due_date = %(yesterday)s
              FROM next_line WHERE l.id = next_line.id;
            UPDATE installment_plan p
               SET amount_late = totals.late, next_due_date = totals.next_date,
                   next_due_amount = totals.next_amount
              FROM (SELECT plan_id,
                           SUM(amount_residual) FILTER (WHERE state = 'late') AS late,
                           (array_agg(due_date ORDER BY sequence, due_date)
                               FILTER (WHERE state != 'paid'))[1] AS next_date,
                           (array_agg(amount_residual ORDER BY sequence, due_date)
                               FILTER (WHERE state != 'paid'))[1] AS next_amount
                      FROM installment_plan_line GROUP BY plan_id) totals
             WHERE totals.plan_id = p.id;
            UPDATE account_move m SET installment_next_due_date = p.next_due_date
              FROM installment_plan p
             WHERE p.move_id = m.id AND p.state = 'active'
               AND m.installment_next_due_date IS DISTINCT FROM p.next_due_date;
            """,
            today=TODAY,
            yesterday=yesterday,
            prefix=CUSTOMER_PREFIX + "%",
            reminded=size["reminded_customers"],
            per=JUST_LATE_PER_CUSTOMER,
        )
    )


def _make_reminder_history(env):
    """One reminder rule (1 day overdue; the default rules are archived) and
    its send log for every installment due before yesterday: what earlier
    daily runs did."""
    Rule = env["installment.reminder.rule"].with_context(active_test=False)
    Rule.search([]).active = False
    rule = Rule.create(
        {
            "name": RULE_NAME,
            "offset_days": 1,
            "mail_template_id": env.ref(
                "installment_credit.mail_template_installment_reminder_overdue"
            ).id,
        }
    )
    env.flush_all()
    env.cr.execute(
        SQL(
            """
            INSERT INTO installment_reminder_log
                   (rule_id, plan_line_id, move_id, plan_id, partner_id, company_id,
                    date, due_date, currency_id, amount_residual, state, manual,
                    user_id, create_uid, create_date, write_uid, write_date)
            SELECT %(rule)s, l.id, l.move_id, l.plan_id, l.partner_id, l.company_id,
                   l.due_date + 1, l.due_date, l.currency_id, l.amount_residual,
                   'sent', FALSE, 1, 1, now(), 1, now()
              FROM installment_plan_line l
             WHERE l.state = 'late'
            """,
            rule=rule.id,
        )
    )


def _clone_credits(env, customers):
    """3 grants and 20 past consumptions for every customer: made for the
    first customer through the ORM, copied for the others."""
    ctype = _credit_type(env)
    first = customers[0]
    grants = env["credit.grant"].create(
        [
            {
                "partner_id": first.id,
                "credit_type_id": ctype.id,
                "quantity": 100,
                "date_start": TODAY - timedelta(days=days),
                "date_expiry": TODAY + timedelta(days=365 - days),
            }
            for days in (300, 200, 100)
        ]
    )
    for _i in range(20):
        first.consume_credits(ctype, 10, date=TODAY - timedelta(days=5))
    env.flush_all()
    env.cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_credit_customer ON COMMIT DROP AS
            SELECT c.id AS partner_id FROM unnest(%(customers)s::int[]) AS c(id);
            CREATE TEMP TABLE bench_grant_map ON COMMIT DROP AS
            SELECT g.id AS old_id, c.partner_id,
                   nextval(pg_get_serial_sequence('credit_grant', 'id')) AS new_id
              FROM credit_grant g, bench_credit_customer c WHERE g.id = ANY(%(grants)s);
            CREATE TEMP TABLE bench_consumption_map ON COMMIT DROP AS
            SELECT k.id AS old_id, c.partner_id,
                   nextval(pg_get_serial_sequence('credit_consumption', 'id')) AS new_id
              FROM credit_consumption k, bench_credit_customer c
             WHERE k.partner_id = %(first)s;
            CREATE TEMP TABLE bench_allocation_map ON COMMIT DROP AS
            SELECT a.id AS old_id, cm.new_id AS consumption_id, gm.new_id AS grant_id,
                   nextval(pg_get_serial_sequence(
                       'credit_consumption_allocation', 'id')) AS new_id
              FROM credit_consumption_allocation a
              JOIN bench_consumption_map cm ON cm.old_id = a.consumption_id
              JOIN bench_grant_map gm
                ON gm.old_id = a.grant_id AND gm.partner_id = cm.partner_id;
            """,
            customers=customers[1:].ids,
            grants=grants.ids,
            first=first.id,
        )
    )
    partner = {"partner_id": SQL("m.partner_id")}
    _copy_rows(
        env, "credit_grant", "bench_grant_map", SQL("src.id = m.old_id"), partner
    )
    _copy_rows(
        env,
        "credit_consumption",
        "bench_consumption_map",
        SQL("src.id = m.old_id"),
        dict(partner, idempotency_key=SQL("NULL")),
    )
    _copy_rows(
        env,
        "credit_consumption_allocation",
        "bench_allocation_map",
        SQL("src.id = m.old_id"),
        {"consumption_id": SQL("m.consumption_id"), "grant_id": SQL("m.grant_id")},
    )
