"""Two batches consuming the same customers' credits at the same time, in two
real transactions: never an overdraw, never a deadlock.

Commit-based: the fixture is committed so that both cursors see it, and removed
again in the cleanup.
"""

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import TwoCursorsMixin


@tagged("post_install", "-at_install")
class TestBatchConcurrency(TwoCursorsMixin, TransactionCase):
    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            ctype = env["credit.type"].create(
                {
                    "name": "Race batch SMS",
                    "unit_name": "SMS",
                    "code": "race_batch",
                    "company_id": company.id,
                }
            )
            partners = env["res.partner"].create(
                [{"name": f"Race batch customer {i}"} for i in range(2)]
            )
            env["credit.grant"].create(
                [
                    {
                        "partner_id": partner.id,
                        "credit_type_id": ctype.id,
                        "company_id": company.id,
                        "quantity": 10,
                        "date_start": "2026-01-01",
                        "date_expiry": expiry,
                    }
                    for partner in partners
                    for expiry in ("2026-02-01", "2026-03-01")
                ]
            )
            self.company_id = company.id
            self.type_id = ctype.id
            self.partner_ids = partners.ids
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with self.registry.cursor() as cr:
            self._delete_credit_ledger(cr, self.partner_ids)
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["credit.type"].browse(self.type_id).unlink()
            env["res.partner"].browse(self.partner_ids).unlink()

    def _batch(self, cr, prefix, quantity, partner_ids, read_committed=False):
        """One event per customer and quantity (``quantity``: a number or a
        tuple of them), through ``consume_batch`` or, with ``read_committed``,
        the HTTP endpoint's transaction."""
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        quantities = quantity if isinstance(quantity, tuple) else (quantity,)
        events = [
            {
                "customer": partner_id,
                "credit_type": "race_batch",
                "quantity": qty,
                "idempotency_key": f"{prefix}-{partner_id}"
                + (f"-{qty}" if len(quantities) > 1 else ""),
            }
            for partner_id in partner_ids
            for qty in quantities
        ]
        Consumption = env["credit.consumption"]
        results = (
            Consumption._consume_batch_read_committed(events)
            if read_committed
            else Consumption.consume_batch(events)
        )
        env.flush_all()
        return results

    @freeze_time("2026-01-15")
    # The transaction that waits on the lock fails with a serialization
    # error, as it should: Odoo logs that failing query at ERROR level.
    @mute_logger("odoo.sql_db")
    def test_two_batches_never_overdraw_nor_deadlock(self):
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            first = self._batch(cr1, "one", 15, self.partner_ids)
            self.assertEqual([r["status"] for r in first], ["consumed"] * 2)
            # The customers in the other order: locks are taken by id.
            outcome = self._second_waits(
                cr1,
                cr2,
                "results",
                lambda: self._batch(cr2, "two", 15, list(reversed(self.partner_ids))),
                "the second batch waits for the locks",
            )
            self.assertIsInstance(
                outcome.get("error"),
                psycopg2.errors.SerializationFailure,
                "the second batch must not spend from its stale snapshot",
            )
            cr2.rollback()
            # Odoo retries a serialization failure: the retry sees 5 units left.
            retry = self._batch(cr2, "two", 15, self.partner_ids)
            self.assertEqual(
                [(r["status"], r["available"]) for r in retry], [("refused", 5)] * 2
            )
            cr2.rollback()
            self.assertEqual(
                [r["status"] for r in self._batch(cr2, "two", 5, self.partner_ids)],
                ["consumed"] * 2,
            )
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            grants = env["credit.grant"].search(
                [("partner_id", "in", self.partner_ids)]
            )
            self.assertEqual(set(grants.mapped("quantity_remaining")), {0.0})
            self.assertEqual(set(grants.mapped("state")), {"exhausted"})
            consumptions = env["credit.consumption"].search(
                [("partner_id", "in", self.partner_ids)]
            )
            self.assertEqual(sum(consumptions.mapped("quantity")), 40)
            self.assertEqual(sum(consumptions.allocation_ids.mapped("quantity")), 40)

    @freeze_time("2026-01-15")
    def test_read_committed_batch_waits_then_spends_what_is_left(self):
        """The HTTP endpoint's transaction (READ COMMITTED): the second batch
        waits for the first one's locks, then reads the grants as committed:
        no serialization failure to replay, and still no overdraw."""
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            first = self._batch(cr1, "rc-one", 15, self.partner_ids)
            self.assertEqual([r["status"] for r in first], ["consumed"] * 2)

            def second():
                return self._batch(
                    cr2,
                    "rc-two",
                    (15, 5),
                    list(reversed(self.partner_ids)),
                    read_committed=True,
                )

            outcome = self._second_waits(
                cr1, cr2, "results", second, "the second batch waits for the locks"
            )
            self.assertNotIn("error", outcome)
            self.assertEqual(
                [(r["status"], r.get("available")) for r in outcome["results"]],
                [("refused", 5), ("consumed", None)] * 2,
            )
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            grants = env["credit.grant"].search(
                [("partner_id", "in", self.partner_ids)]
            )
            self.assertEqual(sum(grants.mapped("quantity_remaining")), 0)
            self.assertTrue(all(g.quantity_remaining >= 0 for g in grants))
