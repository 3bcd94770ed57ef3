"""The load test's data, committed in the benchmark database (idempotent).

Portal customers (``load_portal_N``, password = login), each with invoices
carrying installment plans (some installments already late, so the daily
cron has work) and invoices without plans (the reference), and credits; an
API key for the integration; draft invoices for the back-office users to
post, half with the add-on's installment term, half with a native
multi-line term (the reference). Dates come from the real today: the server
runs on the real clock.
"""

import os
import uuid
from datetime import date, timedelta

from odoo import Command
from odoo.tools import SQL

TYPE_CODE = "load_sms"
PORTAL_PREFIX = "load_portal_"


def _env(db):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    if odoo.tools.config["db_name"] != db:
        odoo.tools.config.parse_config(["-c", os.environ["IC_ODOO_CONF"], "-d", db])
    if os.environ.get("IC_LOAD_DB_PORT"):  # the fault test's disposable cluster
        odoo.tools.config["db_port"] = int(os.environ["IC_LOAD_DB_PORT"])
    cr = Registry(db).cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {})


def _invoice(env, partner, amount, day, term=None):
    vals = {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "invoice_date": day,
        "date": day,
        "invoice_line_ids": [
            Command.create(
                {"name": "Load service", "price_unit": amount, "tax_ids": []}
            )
        ],
    }
    if term:
        vals["invoice_payment_term_id"] = term.id
    return env["account.move"].create(vals)


def _customers(env, count, today):
    Users = env["res.users"].with_context(no_reset_password=True)
    ctype = env["credit.type"].search([("code", "=", TYPE_CODE)], limit=1)
    if not ctype:
        ctype = env["credit.type"].create(
            {"name": "Load SMS", "unit_name": "SMS", "code": TYPE_CODE}
        )
    portal = env.ref("base.group_portal")
    customers = []
    for i in range(count):
        login = f"{PORTAL_PREFIX}{i}"
        user = Users.search([("login", "=", login)], limit=1)
        if not user:
            user = Users.create(
                {
                    "name": f"Load Portal Customer {i}",
                    "login": login,
                    "password": login,
                    "email": f"{login}@example.com",
                    "groups_id": [Command.set(portal.ids)],
                }
            )
            partner = user.partner_id
            with_plans, without = [], []
            for k in range(2):
                move = _invoice(env, partner, 1200.0 + k, today - timedelta(days=40))
                move.action_post()
                # the first installment 30 days ago: late, reminded
                move.create_installment_plan(
                    count=6, first_due_date=today - timedelta(days=30 - 60 * k)
                )
                with_plans.append(move.id)
                move = _invoice(env, partner, 1200.0 + k, today - timedelta(days=40))
                move.action_post()
                without.append(move.id)
        customers.append(user)
    partners = env["res.partner"].browse([u.partner_id.id for u in customers])
    # Enough units for any run, usable today.
    grants = env["credit.grant"].search(
        [("partner_id", "in", partners.ids), ("credit_type_id", "=", ctype.id)]
    )
    missing = partners - grants.partner_id
    if missing:
        env["credit.grant"].create(
            [
                {
                    "partner_id": p.id,
                    "credit_type_id": ctype.id,
                    "quantity": 10_000_000,
                    "date_start": today - timedelta(days=10),
                    "date_expiry": today + timedelta(days=60),
                }
                for p in missing
            ]
        )
    env.flush_all()
    env.cr.execute(
        SQL(
            """UPDATE credit_grant SET date_start = %(start)s, date_expiry = %(expiry)s
                WHERE credit_type_id = %(type)s AND date_expiry <= %(soon)s""",
            start=today - timedelta(days=10),
            expiry=today + timedelta(days=60),
            type=ctype.id,
            soon=today + timedelta(days=7),
        )
    )
    env.invalidate_all()
    return customers, ctype


def late_targets(env, count, today):
    """``count`` customers with an installment 10 days late: work for the
    reminder run (one email each)."""
    partners = env["res.partner"].create(
        [
            {"name": f"Load late customer {i}", "email": f"load.late.{i}@example.com"}
            for i in range(count)
        ]
    )
    for partner in partners:
        move = _invoice(env, partner, 300.0, today - timedelta(days=40))
        move.action_post()
        move.create_installment_plan(count=3, first_due_date=today - timedelta(days=10))
    return partners


def setup(db, customers=6, drafts=60, late=0):
    """Create what is missing; return what the Locust users need (JSON)."""
    from bench.scenarios import _terms

    cr, env = _env(db)
    try:
        today = date.today()
        users, _ctype = _customers(env, customers, today)
        if late:
            late_targets(env, late, today)
        partners = [u.partner_id for u in users]
        Move = env["account.move"]
        plans = Move.search(
            [
                ("partner_id", "in", [p.id for p in partners]),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("installment_plan_ids.state", "=", "active"),
            ]
        )
        plain = Move.search(
            [
                ("partner_id", "in", [p.id for p in partners]),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("installment_plan_ids", "=", False),
                ("invoice_line_ids.name", "=", "Load service"),
            ]
        )
        scheme, native = _terms(env)
        # Fresh drafts for this run: half per term, same amounts.
        draft = {"addon": [], "reference": []}
        for i in range(drafts):
            partner = partners[i % len(partners)]
            draft["addon"].append(_invoice(env, partner, 600.0, today, scheme).id)
            draft["reference"].append(_invoice(env, partner, 600.0, today, native).id)
        for move in plans | plain:
            move._portal_ensure_token()
        admin = env.ref("base.user_admin")
        key = (
            env["res.users.apikeys"]
            .with_user(admin)
            ._generate("rpc", f"load test {uuid.uuid4().hex[:8]}", None)
        )
        data = {
            "db": db,
            "key": key,
            "type_code": TYPE_CODE,
            "portal": [
                {
                    "login": u.login,
                    "partner_id": u.partner_id.id,
                    "with_plans": [
                        {"id": m.id, "token": m.access_token}
                        for m in plans
                        if m.partner_id == u.partner_id
                    ],
                    "without_plans": [
                        {"id": m.id, "token": m.access_token}
                        for m in plain
                        if m.partner_id == u.partner_id
                    ],
                }
                for u in users
            ],
            "invoices": {"addon": plans.ids, "reference": plain.ids},
            "drafts": draft,
        }
        cr.commit()
        return data
    finally:
        cr.close()
