"""Scenario 5: credit consumption cost must not grow with a customer's history.

``consume_credits`` for customers who carry many grants and a long
consumption history, next to the same calls for new customers; then the
throughput with one and two concurrent workers (separate database cursors,
each call committed), checking that nothing was overdrawn.
"""

import logging
import statistics
import threading
import time
from datetime import date, timedelta

from psycopg2 import errors

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

CREDIT_SIZES = {
    "tiny": {
        "customers": 1,
        "grants": 15,
        "history": 50,
        "calls": 5,
        "workers_calls": 10,
    },
    "small": {
        "customers": 2,
        "grants": 50,
        "history": 2_000,
        "calls": 100,
        "workers_calls": 60,
    },
    "medium": {
        "customers": 5,
        "grants": 1_000,
        "history": 20_000,
        "calls": 2_000,
        "workers_calls": 400,
    },
    "large": {
        "customers": 10,
        "grants": 1_000,
        "history": 100_000,
        "calls": 10_000,
        "workers_calls": 2_000,
    },
}
TODAY = date(2026, 6, 1)
HISTORY_PREFIX = "Bench history"
ACTIVE_GRANTS = 10


def _credit_type(env):
    ctype = env["credit.type"].search([("name", "=", "Bench SMS")], limit=1)
    return ctype or env["credit.type"].create(
        {"name": "Bench SMS", "unit_name": "SMS", "rounding": 1.0}
    )


def _customers(env, ctype, count, grants, history, prefix, today=TODAY):
    """``count`` customers, each with ``ACTIVE_GRANTS`` active grants and
    ``grants - ACTIVE_GRANTS`` exhausted ones that carry ``history`` past
    consumptions (inserted with SQL: the ORM is not what is measured), dated
    around ``today``."""
    partners = env["res.partner"].create(
        [{"name": f"{prefix} {i}"} for i in range(count)]
    )
    history_grants = max(grants - ACTIVE_GRANTS, 0) if history else 0
    per_grant = max(history // history_grants, 1) if history_grants else 0
    vals = []
    for partner in partners:
        for i in range(history_grants):
            start = today - timedelta(days=400 - i % 300)
            vals.append(
                {
                    "partner_id": partner.id,
                    "credit_type_id": ctype.id,
                    "quantity": per_grant,
                    "date_start": start,
                    "date_expiry": today + timedelta(days=30 + i % 200),
                }
            )
        for i in range(ACTIVE_GRANTS):
            vals.append(
                {
                    "partner_id": partner.id,
                    "credit_type_id": ctype.id,
                    "quantity": 1_000_000,
                    "date_start": today - timedelta(days=10),
                    "date_expiry": today + timedelta(days=60 + i),
                }
            )
    grants_rs = env["credit.grant"].create(vals)
    if history_grants:
        env.flush_all()
        company = env.company.id
        env.cr.execute(
            SQL(
                """
                WITH hist AS (
                    SELECT g.id AS grant_id, g.partner_id, g.credit_type_id,
                           generate_series(1, %(per)s) AS n
                      FROM credit_grant g
                     WHERE g.id = ANY(%(ids)s) AND g.quantity = %(per)s
                       AND g.quantity < 1000000
                ), cons AS (
                    INSERT INTO credit_consumption (partner_id, company_id,
                           credit_type_id, quantity, date, state, reference,
                           create_uid, write_uid, create_date, write_date)
                    SELECT partner_id, %(company)s, credit_type_id, 1,
                           %(day)s, 'done', 'bench history ' || grant_id || '/' || n,
                           1, 1, now(), now()
                      FROM hist
                 RETURNING id, reference
                )
                INSERT INTO credit_consumption_allocation (consumption_id, grant_id,
                       quantity, state, company_id, date,
                       create_uid, write_uid, create_date, write_date)
                SELECT cons.id,
                       split_part(substr(cons.reference, 15), '/', 1)::int,
                       1, 'done', %(company)s, %(day)s, 1, 1, now(), now()
                  FROM cons
                """,
                per=per_grant,
                ids=grants_rs.ids,
                company=company,
                day=today - timedelta(days=5),
            )
        )
        # The history grants are used up: their stored totals say so.
        env.cr.execute(
            SQL(
                "UPDATE credit_grant SET quantity_consumed = quantity, "
                "quantity_remaining = 0, state = 'exhausted' "
                "WHERE id = ANY(%s) AND quantity < 1000000",
                grants_rs.ids,
            )
        )
        env.cr.execute("ANALYZE credit_grant")
        env.cr.execute("ANALYZE credit_consumption")
        env.cr.execute("ANALYZE credit_consumption_allocation")
        env.invalidate_all()
    return partners


def _consume_loop(partners, ctype, calls):
    for i in range(calls):
        partners[i % len(partners)].consume_credits(ctype, 1, date=TODAY)


def scenario_credits(env, size, scale="small"):
    """5. consume_credits for the dataset's customers with a long history vs
    new customers with the same active grants."""
    from .scenarios import rolled_back

    cfg = CREDIT_SIZES[scale]
    ctype = _credit_type(env)
    history = env["res.partner"].search(
        [("name", "=like", f"{HISTORY_PREFIX} %")], order="id", limit=cfg["customers"]
    )
    assert len(history) == cfg["customers"], "the bench dataset is missing"
    times = {"history": [], "new": []}
    for _i in range(size["repeats"]):
        with rolled_back(env):
            start = time.perf_counter()
            _consume_loop(history, ctype, cfg["calls"])
            env.flush_all()
            times["history"].append(time.perf_counter() - start)
        with rolled_back(env):
            partners = _customers(
                env, ctype, cfg["customers"], cfg["grants"], 0, "Bench new"
            )
            env.flush_all()
            start = time.perf_counter()
            _consume_loop(partners, ctype, cfg["calls"])
            env.flush_all()
            times["new"].append(time.perf_counter() - start)
    return {
        "addon": statistics.median(times["history"]),
        "reference": statistics.median(times["new"]),
        "size": f"{cfg['calls']} calls, {cfg['grants']} grants + "
        f"{cfg['history']} past each",
    }


def credit_throughput(registry, scale="small", workers=1):
    """Calls per second with ``workers`` concurrent cursors on one customer
    and one grant, every call committed; returns (rate, overdrawn)."""
    cfg = CREDIT_SIZES[scale]
    calls = cfg["workers_calls"]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        ctype = _credit_type(env)
        partner = env["res.partner"].create({"name": "Bench concurrent customer"})
        grant = env["credit.grant"].create(
            {
                "partner_id": partner.id,
                "credit_type_id": ctype.id,
                "quantity": calls,  # exactly enough: any overdraw would show
                "date_start": TODAY - timedelta(days=1),
                "date_expiry": TODAY + timedelta(days=30),
            }
        )
        cr.commit()
        partner_id, ctype_id, grant_id = partner.id, ctype.id, grant.id

    done = []
    lock = threading.Lock()
    # Serialization failures are expected and retried: don't log each one.
    sql_logger = logging.getLogger("odoo.sql_db")
    previous_level = sql_logger.level
    sql_logger.setLevel(logging.CRITICAL)

    def work(share):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            customer = env["res.partner"].browse(partner_id)
            credit_type = env["credit.type"].browse(ctype_id)
            for _i in range(share):
                for _attempt in range(20):
                    try:
                        customer.consume_credits(credit_type, 1, date=TODAY)
                        cr.commit()
                        with lock:
                            done.append(1)
                        break
                    except (errors.SerializationFailure, errors.LockNotAvailable):
                        cr.rollback()
                        env.invalidate_all()

    start = time.perf_counter()
    threads = [
        threading.Thread(target=work, args=(calls // workers,)) for _i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    sql_logger.setLevel(previous_level)

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        grant = env["credit.grant"].browse(grant_id)
        consumed = sum(grant.allocation_ids.mapped("quantity"))
        overdrawn = consumed > grant.quantity or grant.quantity_remaining < 0
        # Clean up the committed bench rows (the ledger forbids ORM deletes).
        cr.execute(
            SQL(
                "DELETE FROM credit_consumption_allocation WHERE grant_id = %s;"
                "DELETE FROM credit_consumption WHERE partner_id = %s;"
                "DELETE FROM credit_grant WHERE id = %s;"
                "DELETE FROM res_partner WHERE id = %s;",
                grant_id,
                partner_id,
                grant_id,
                partner_id,
            )
        )
        cr.commit()
    return len(done) / elapsed if elapsed else 0.0, overdrawn
