"""credit.consumption.consume_batch: the batch service of the integration API,
in process (its HTTP and RPC faces are in test_api_http / test_api_rpc)."""

import psycopg2
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestConsumeBatch(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.sms = cls.env["credit.type"].create(
            {"name": "Batch SMS", "unit_name": "SMS", "code": "bsms"}
        )
        cls.gb = cls.env["credit.type"].create(
            {"name": "Batch data", "unit_name": "GB", "rounding": 0.01, "code": "bgb"}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Batch customer", "ref": "CUST-1"}
        )
        cls.other = cls.env["res.partner"].create({"name": "Batch other"})
        cls.Consumption = cls.env["credit.consumption"]

    def _grant(self, quantity, start, expiry, ctype=None, partner=None):
        return self.env["credit.grant"].create(
            {
                "partner_id": (partner or self.customer).id,
                "credit_type_id": (ctype or self.sms).id,
                "company_id": self.company.id,
                "quantity": quantity,
                "date_start": start,
                "date_expiry": expiry,
            }
        )

    def _event(self, key, quantity, customer=None, ctype="bsms", **extra):
        return {
            "customer": customer if customer is not None else self.customer.id,
            "credit_type": ctype,
            "quantity": quantity,
            "idempotency_key": key,
            **extra,
        }

    @freeze_time("2026-01-15")
    def test_outcomes_in_order_and_fefo_as_consume_credits(self):
        march = self._grant(10, "2026-01-01", "2026-03-01")
        february = self._grant(10, "2026-01-05", "2026-02-01")
        self._grant(5, "2026-01-01", "2026-03-01", partner=self.other)
        results = self.Consumption.consume_batch(
            [
                self._event("e1", 4, reference="call 1"),
                self._event("e2", 12, customer="CUST-1", date="2026-01-10"),
                self._event("e3", 50),
                self._event("e4", 2, customer="nobody"),
                self._event("e5", 1, ctype="unknown"),
                self._event("e6", 1.5),
                self._event("e7", 3, customer=self.other.id, ctype=self.sms.id),
                self._event("e1", 4),
                self._event("e8", 1, date="2026-02-30"),
                self._event("e9", 1, date="2026-01-20"),
                {"customer": self.customer.id, "credit_type": "bsms", "quantity": 1},
            ]
        )
        self.assertEqual(
            [(r["idempotency_key"], r["status"]) for r in results],
            [
                ("e1", "consumed"),
                ("e2", "consumed"),
                ("e3", "refused"),
                ("e4", "refused"),
                ("e5", "refused"),
                ("e6", "refused"),
                ("e7", "consumed"),
                ("e1", "duplicate"),
                ("e8", "refused"),
                ("e9", "refused"),
                (None, "refused"),
            ],
        )
        self.assertEqual(
            [r.get("code") for r in results if r["status"] == "refused"],
            [
                "insufficient_units",
                "unknown_customer",
                "unknown_credit_type",
                "invalid_quantity",
                "invalid_date",
                "invalid_date",
                "invalid_event",
            ],
        )
        self.assertEqual((results[2]["requested"], results[2]["available"]), (50, 4))
        self.assertIn("50 SMS requested, 4 SMS available", results[2]["reason"])
        self.assertEqual(results[0]["remaining"], 16)
        self.assertEqual(results[1]["remaining"], 4)
        self.assertEqual(results[6]["remaining"], 2)
        self.assertEqual(results[7]["consumption_id"], results[0]["consumption_id"])
        first = self.Consumption.browse(results[0]["consumption_id"])
        second = self.Consumption.browse(results[1]["consumption_id"])
        # The ledger rows consume_credits writes: FEFO, allocations, fields.
        self.assertEqual(
            {a.grant_id: a.quantity for a in first.allocation_ids}, {february: 4}
        )
        self.assertEqual(
            {a.grant_id: a.quantity for a in second.allocation_ids},
            {february: 6, march: 6},
        )
        self.assertRecordValues(
            first | second,
            [
                {
                    "partner_id": self.customer.id,
                    "credit_type_id": self.sms.id,
                    "quantity": 4,
                    "date": first.date,
                    "reference": "call 1",
                    "idempotency_key": "e1",
                    "state": "done",
                    "company_id": self.company.id,
                },
                {
                    "partner_id": self.customer.id,
                    "credit_type_id": self.sms.id,
                    "quantity": 12,
                    "date": second.date,
                    "reference": False,
                    "idempotency_key": "e2",
                    "state": "done",
                    "company_id": self.company.id,
                },
            ],
        )
        self.assertEqual(str(second.date), "2026-01-10")
        self.assertEqual(second.allocation_ids.mapped("state"), ["done", "done"])
        # The grants' stored quantities and states follow the ledger.
        self.assertEqual(february.state, "exhausted")
        self.assertEqual(march.quantity_remaining, 4)
        self.assertEqual(march.quantity_consumed, 6)
        status = {r["credit_type_id"]: r for r in self.customer.get_credit_status()}
        self.assertEqual(status[self.sms.id]["remaining"], 4)
        # The single call shares the rules and the keys.
        self.assertEqual(
            self.customer.consume_credits(self.sms, 4, idempotency_key="e1"), first
        )
        with self.assertRaisesRegex(UserError, "different request"):
            self.customer.consume_credits(self.sms, 5, idempotency_key="e2")

    @freeze_time("2026-01-15")
    def test_replay_consumes_nothing_more(self):
        grant = self._grant(10, "2026-01-01", "2026-03-01")
        batch = [self._event(f"r{i}", 2) for i in range(3)]
        first = self.Consumption.consume_batch(batch)
        self.assertEqual({r["status"] for r in first}, {"consumed"})
        again = self.Consumption.consume_batch(batch)
        self.assertEqual([r["status"] for r in again], ["duplicate"] * 3)
        self.assertEqual(
            [r["consumption_id"] for r in again], [r["consumption_id"] for r in first]
        )
        self.assertEqual(grant.quantity_remaining, 4)
        # Same key, other content: refused, the others still go through.
        changed = self.Consumption.consume_batch(
            [self._event("r0", 3), self._event("r3", 1)]
        )
        self.assertEqual(
            [(r["status"], r.get("code")) for r in changed],
            [("refused", "idempotency_conflict"), ("consumed", None)],
        )
        self.assertIn("different request", changed[0]["reason"])
        # A key repeated inside one batch: once consumed, then a duplicate; a
        # repeat with another content is refused.
        inner = self.Consumption.consume_batch(
            [self._event("r4", 1), self._event("r4", 1), self._event("r4", 2)]
        )
        self.assertEqual(
            [r["status"] for r in inner], ["consumed", "duplicate", "refused"]
        )
        self.assertEqual(inner[1]["consumption_id"], inner[0]["consumption_id"])
        self.assertEqual(grant.quantity_remaining, 2)
        self.assertEqual(
            self.Consumption.search_count([("partner_id", "=", self.customer.id)]), 5
        )

    @freeze_time("2026-01-15")
    def test_batch_limits_and_rights(self):
        self._grant(10, "2026-01-01", "2026-03-01")
        with self.assertRaisesRegex(UserError, "at most 1000 events"):
            self.Consumption.consume_batch(
                [self._event(f"k{i}", 1) for i in range(1001)]
            )
        with self.assertRaisesRegex(UserError, "as a list"):
            self.Consumption.consume_batch({"events": []})
        portal = new_test_user(self.env, login="batch_portal", groups="base.group_user")
        with self.assertRaisesRegex(AccessError, "Installments & Credits users"):
            self.Consumption.with_user(portal).consume_batch([self._event("x", 1)])
        archived = self.env["credit.type"].create(
            {"name": "Old", "unit_name": "u", "code": "old", "active": False}
        )
        result = self.Consumption.consume_batch([self._event("a1", 1, ctype="old")])
        self.assertEqual(result[0]["code"], "unknown_credit_type")
        self.assertIn("archived", result[0]["reason"])
        self.assertTrue(archived)

    @freeze_time("2026-01-15")
    def test_codes_and_refs(self):
        with self.assertRaises(ValidationError), mute_logger("odoo.sql_db"):
            self.env["credit.type"].create(
                {"name": "Bad", "unit_name": "u", "code": "with space"}
            )
        with (
            self.assertRaises(psycopg2.IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env["credit.type"].create(
                {"name": "Twin", "unit_name": "u", "code": "bsms"}
            )
            self.env.flush_all()
        # The same code in another company is another type.
        other_company = self.env["res.company"].create({"name": "Batch Co 2"})
        twin = self.env["credit.type"].create(
            {
                "name": "Twin",
                "unit_name": "u",
                "code": "bsms",
                "company_id": other_company.id,
            }
        )
        Type = self.env["credit.type"]
        self.assertEqual(Type._resolve_keys(["bsms"])["bsms"], self.sms)
        self.assertEqual(
            Type.with_company(other_company)
            .with_context(allowed_company_ids=[other_company.id, self.company.id])
            ._resolve_keys(["bsms"])["bsms"],
            twin,
        )
        self.assertEqual(
            self.env["res.partner"]._credit_resolve_customers(["CUST-1", 0]),
            {"CUST-1": self.customer},
        )

    @freeze_time("2026-01-15")
    def test_ambiguous_ref_refused(self):
        self.env["res.partner"].create({"name": "Twin", "ref": "CUST-1"})
        self._grant(10, "2026-01-01", "2026-03-01")
        result = self.Consumption.consume_batch(
            [self._event("x", 1, customer="CUST-1")]
        )
        self.assertEqual(result[0]["code"], "unknown_customer")
        self.assertIn("Several customers", result[0]["reason"])

    @freeze_time("2026-01-15")
    def test_set_based_query_count(self):
        """The number of queries does not grow with the events of a batch."""
        customers = self.env["res.partner"].create(
            [{"name": f"Q{i}"} for i in range(40)]
        )
        for customer in customers:
            self._grant(1000, "2026-01-01", "2026-03-01", partner=customer)
            self._grant(1000, "2026-01-01", "2026-04-01", partner=customer)
        self.env.flush_all()

        def batch(prefix, count):
            return [
                self._event(
                    f"{prefix}{i}", 100, customer=customers[i % len(customers)].id
                )
                for i in range(count)
            ]

        self.Consumption.consume_batch(batch("warm", 2))
        self.env.flush_all()
        self.env.invalidate_all()
        queries = []
        for prefix, count in (("small", 4), ("large", 80)):
            before = self.env.cr.sql_log_count
            results = self.Consumption.consume_batch(batch(prefix, count))
            self.env.flush_all()
            queries.append(self.env.cr.sql_log_count - before)
            self.assertEqual({r["status"] for r in results}, {"consumed"})
            self.env.invalidate_all()
        self.assertLessEqual(queries[1], queries[0] + 2, queries)
        self.assertLess(queries[1], 30, queries)

    @freeze_time("2026-01-15")
    def test_non_finite_quantity_refused(self):
        """NaN and infinity are numbers to JSON and Python: refused with the
        quantity's code, not a crash of the whole batch."""
        self._grant(10, "2026-01-01", "2026-03-01")
        results = self.Consumption.consume_batch(
            [
                self._event("n1", float("nan")),
                self._event("n2", float("inf")),
                self._event("n3", 2),
            ]
        )
        self.assertEqual(
            [(r["status"], r.get("code")) for r in results],
            [
                ("refused", "invalid_quantity"),
                ("refused", "invalid_quantity"),
                ("consumed", None),
            ],
        )
        self.assertIn("finite number", results[0]["reason"])
        with self.assertRaisesRegex(UserError, "finite number"):
            self.customer.consume_credits(self.sms, float("inf"))
