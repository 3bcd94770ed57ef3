"""Two transactions consuming the same customer's credits at the same time.

Commit-based: the fixture is committed so that both cursors see it, and removed
again in the cleanup.
"""

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import TwoCursorsMixin


@tagged("post_install", "-at_install")
class TestCreditConcurrency(TwoCursorsMixin, TransactionCase):
    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            ctype = env["credit.type"].create(
                {"name": "Race SMS", "unit_name": "SMS", "company_id": company.id}
            )
            partner = env["res.partner"].create({"name": "Race credit customer"})
            grants = env["credit.grant"].create(
                [
                    {
                        "partner_id": partner.id,
                        "credit_type_id": ctype.id,
                        "company_id": company.id,
                        "quantity": 6,
                        "date_start": "2026-01-01",
                        "date_expiry": "2026-02-01",
                    },
                    {
                        "partner_id": partner.id,
                        "credit_type_id": ctype.id,
                        "company_id": company.id,
                        "quantity": 4,
                        "date_start": "2026-01-01",
                        "date_expiry": "2026-03-01",
                    },
                ]
            )
            self.company_id = company.id
            self.type_id = ctype.id
            self.partner_id = partner.id
            self.grant_ids = grants.ids
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with self.registry.cursor() as cr:
            self._delete_credit_ledger(cr, [self.partner_id])
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["credit.type"].browse(self.type_id).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _consume(self, cr, quantity):
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        partner = env["res.partner"].browse(self.partner_id)
        consumption = partner.consume_credits(
            env["credit.type"].browse(self.type_id), quantity
        )
        env.flush_all()
        return consumption.id

    @freeze_time("2026-01-15")
    # The transaction that waits on the lock fails with a serialization
    # error, as it should: Odoo logs that failing query at ERROR level.
    @mute_logger("odoo.sql_db")
    def test_two_consumptions_never_overdraw(self):
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            first_id = self._consume(cr1, 8)
            outcome = self._second_waits(
                cr1,
                cr2,
                "id",
                lambda: self._consume(cr2, 8),
                "the second consumption waits for the grant locks",
            )
            self.assertIsInstance(
                outcome.get("error"),
                psycopg2.errors.SerializationFailure,
                "the second consumption must not spend from its stale snapshot",
            )
            cr2.rollback()
            # Odoo retries a serialization failure: the retry sees 2 units left.
            with self.assertRaisesRegex(UserError, "8 SMS requested, 2 SMS available"):
                self._consume(cr2, 8)
            cr2.rollback()
            self._consume(cr2, 2)
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            grants = env["credit.grant"].browse(self.grant_ids)
            self.assertEqual(grants.mapped("quantity_remaining"), [0.0, 0.0])
            consumptions = env["credit.consumption"].search(
                [("partner_id", "=", self.partner_id)]
            )
            self.assertEqual(sum(consumptions.mapped("quantity")), 10)
            self.assertIn(first_id, consumptions.ids)
            allocations = consumptions.allocation_ids
            self.assertEqual(sum(allocations.mapped("quantity")), 10)
