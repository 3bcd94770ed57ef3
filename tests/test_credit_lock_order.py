"""A consumption racing credit notes of the same customer (issue 15, point 9).

Everything that changes a customer's units locks the partner row first, then
the grants by id; the nearest-expiry-first order is applied after locking. A
consumption locking grants in FEFO order while a transaction posting two credit
notes locks them by id would deadlock as soon as the two orders differ.

Commit-based: the fixture is committed so that both cursors see it, and removed
again in the cleanup.
"""

import threading

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import TwoCursorsMixin


@tagged("post_install", "-at_install")
class TestCreditLockOrder(TwoCursorsMixin, TransactionCase):
    def setUp(self):
        super().setUp()
        with (
            freeze_time("2026-01-10"),
            self.registry.cursor() as cr,
        ):
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            env = env(context={"allowed_company_ids": company.ids})
            self.assertTrue(
                company.chart_template, "the test database has a chart of accounts"
            )
            self.saved_availability = company.credit_availability
            company.credit_availability = "posted"
            ctype = env["credit.type"].create(
                {"name": "Lock SMS", "unit_name": "SMS", "company_id": company.id}
            )
            packages = env["credit.package"].create(
                [
                    {
                        "name": f"Lock SMS {months} months",
                        "package_kind": "subscription",
                        "validity_number": months,
                        "validity_unit": "month",
                        "list_price": 10.0 * months,
                        "company_id": company.id,
                        "line_ids": [
                            Command.create(
                                {"credit_type_id": ctype.id, "quantity": 100}
                            )
                        ],
                    }
                    for months in (3, 1)
                ]
            )
            partner = env["res.partner"].create({"name": "Lock credit customer"})
            # Sold in this order, the 3-month grant has the lower id but the
            # later expiry: FEFO order and id order differ.
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": fields.Date.to_date("2026-01-10"),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": package.product_id.id,
                                    "quantity": 1,
                                    "price_unit": package.list_price,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for package in packages
                ]
            )
            invoices.action_post()
            long_grant = invoices[0].credit_grant_ids
            short_grant = invoices[1].credit_grant_ids
            self.assertLess(long_grant.id, short_grant.id)
            self.assertGreater(long_grant.date_expiry, short_grant.date_expiry)
            refunds = invoices._reverse_moves(
                [
                    {
                        "invoice_date": fields.Date.to_date("2026-01-15"),
                        "date": fields.Date.to_date("2026-01-15"),
                    }
                ]
                * 2
            )
            refunds.invoice_line_ids.filtered("product_id").quantity = 0.1
            self.company_id = company.id
            self.type_id = ctype.id
            self.package_ids = packages.ids
            self.partner_id = partner.id
            self.invoice_ids = invoices.ids
            self.refund_ids = refunds.ids
            self.long_grant_id = long_grant.id
            self.short_grant_id = short_grant.id
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with self.registry.cursor() as cr:
            self._delete_credit_ledger(cr, [self.partner_id])
            env = api.Environment(cr, SUPERUSER_ID, {})
            moves = env["account.move"].browse(self.invoice_ids + self.refund_ids)
            env["mail.message"].search(
                [
                    "|",
                    "&",
                    ("model", "=", "account.move"),
                    ("res_id", "in", moves.ids),
                    "&",
                    ("model", "=", "res.partner"),
                    ("res_id", "=", self.partner_id),
                ]
            ).unlink()
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            packages = env["credit.package"].browse(self.package_ids)
            templates = packages.product_id.product_tmpl_id
            packages.unlink()
            templates.unlink()
            env["credit.type"].browse(self.type_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()
            env.ref("base.main_company").credit_availability = self.saved_availability

    def _env(self, cr):
        return api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )

    def _consume(self, cr, quantity):
        env = self._env(cr)
        partner = env["res.partner"].browse(self.partner_id)
        consumption = partner.consume_credits(
            env["credit.type"].browse(self.type_id), quantity
        )
        env.flush_all()
        return consumption.id

    def _post_refund(self, cr, refund_id):
        env = self._env(cr)
        env["account.move"].browse(refund_id).action_post()
        env.flush_all()

    @freeze_time("2026-01-15")
    # The transaction that loses the race fails with a serialization error, as
    # it should: Odoo logs that failing query at ERROR level.
    @mute_logger("odoo.sql_db")
    def test_consumption_and_credit_notes_never_deadlock(self):
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            for cr in (cr1, cr2):
                cr.execute("SET LOCAL lock_timeout = '30s'")
            # The credit note of the long subscription holds its grant...
            self._post_refund(cr2, self.refund_ids[0])
            outcome = {}

            def consume():
                try:
                    outcome["id"] = self._consume(cr1, 5)
                except Exception as error:  # noqa: BLE001 - reported below
                    outcome["error"] = error

            # ... a consumption starts: nearest expiry is the short one ...
            thread = threading.Thread(target=consume)
            thread.start()
            thread.join(1.5)
            self.assertTrue(thread.is_alive(), "the consumption waits for the locks")
            # ... and the same transaction credits the short subscription. With
            # grants locked in FEFO order by the consumption and by id here,
            # PostgreSQL would report a deadlock after deadlock_timeout.
            self._post_refund(cr2, self.refund_ids[1])
            cr2.commit()
            thread.join(60.0)
            self.assertFalse(thread.is_alive())
            self.assertIsInstance(
                outcome.get("error"),
                psycopg2.errors.SerializationFailure,
                "the consumption must wait, then not spend from its stale snapshot",
            )
            cr1.rollback()
            # Odoo retries a serialization failure on a fresh snapshot.
            consumption_id = self._consume(cr1, 5)
            cr1.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            long_grant = env["credit.grant"].browse(self.long_grant_id)
            short_grant = env["credit.grant"].browse(self.short_grant_id)
            self.assertEqual(long_grant.quantity_cancelled, 10)
            self.assertEqual(short_grant.quantity_cancelled, 10)
            consumption = env["credit.consumption"].browse(consumption_id)
            self.assertEqual(consumption.allocation_ids.grant_id, short_grant)
            self.assertEqual(short_grant.quantity_remaining, 85)
            self.assertEqual(long_grant.quantity_remaining, 90)
            self.assertEqual(
                env["credit.consumption"].search_count(
                    [("partner_id", "=", self.partner_id)]
                ),
                1,
            )
