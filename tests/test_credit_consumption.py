from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestCreditConsumption(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.sms = cls.env["credit.type"].create(
            {"name": "FEFO SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        cls.gb = cls.env["credit.type"].create(
            {"name": "FEFO data", "unit_name": "GB", "rounding": 0.01}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "FEFO customer", "email": "fefo@example.com"}
        )

    def _grant(self, quantity, start, expiry, ctype=None, partner=None, company=None):
        return (
            self.env["credit.grant"]
            .with_company(company or self.company)
            .create(
                {
                    "partner_id": (partner or self.customer).id,
                    "credit_type_id": (ctype or self.sms).id,
                    "company_id": (company or self.company).id,
                    "quantity": quantity,
                    "date_start": start,
                    "date_expiry": expiry,
                }
            )
        )

    def _alloc(self, consumption):
        return {a.grant_id: a.quantity for a in consumption.allocation_ids}

    @freeze_time("2026-01-15")
    def test_fefo_across_three_grants(self):
        march = self._grant(10, "2026-01-01", "2026-03-01")
        february = self._grant(10, "2026-01-05", "2026-02-01")
        april = self._grant(10, "2026-01-01", "2026-04-01")
        first = self.customer.consume_credits(self.sms, 4)
        self.assertEqual(self._alloc(first), {february: 4})
        second = self.customer.consume_credits(self.sms, 12)
        self.assertEqual(self._alloc(second), {february: 6, march: 6})
        self.assertEqual(february.state, "exhausted")
        self.assertEqual(march.quantity_remaining, 4)
        self.assertEqual(april.quantity_remaining, 10)
        # A consumption spanning all three grants: allocations sum to it.
        third = self.customer.consume_credits(self.sms, 9)
        self.assertEqual(self._alloc(third), {march: 4, april: 5})
        self.assertEqual(sum(third.allocation_ids.mapped("quantity")), 9)
        self.assertEqual(third.state, "done")

    @freeze_time("2026-01-15")
    def test_many_grants_locked_by_batches(self):
        grants = self.env["credit.grant"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "credit_type_id": self.sms.id,
                    "quantity": 1,
                    "date_start": "2026-01-01",
                    "date_expiry": f"2026-02-{day:02d}",
                }
                for day in range(1, 29)
                for _copy in range(3)
            ]
        )
        consumption = self.customer.consume_credits(self.sms, 70)
        used = consumption.allocation_ids.grant_id
        self.assertEqual(len(used), 70)
        self.assertEqual(
            max(used.mapped("date_expiry")), fields.Date.to_date("2026-02-24")
        )
        self.assertEqual(len(grants.filtered(lambda g: g.state == "active")), 14)
        with self.assertRaisesRegex(UserError, "15 SMS requested, 14 SMS available"):
            self.customer.consume_credits(self.sms, 15)

    @freeze_time("2026-01-15")
    def test_same_expiry_oldest_start_first(self):
        late = self._grant(5, "2026-01-10", "2026-02-01")
        early = self._grant(5, "2026-01-02", "2026-02-01")
        consumption = self.customer.consume_credits(self.sms, 7)
        self.assertEqual(self._alloc(consumption), {early: 5, late: 2})

    @freeze_time("2026-01-15")
    def test_future_grants_are_not_usable_yet(self):
        self._grant(5, "2026-01-01", "2026-02-01")
        self._grant(50, "2026-02-01", "2026-03-01")
        with self.assertRaisesRegex(UserError, "6 SMS requested, 5 SMS available"):
            self.customer.consume_credits(self.sms, 6)

    @freeze_time("2026-01-15")
    def test_insufficient_units_writes_nothing(self):
        grant_a = self._grant(10, "2026-01-01", "2026-02-01")
        self._grant(5, "2026-01-01", "2026-03-01")
        before = self.env["credit.consumption"].search_count([])
        with self.assertRaises(UserError) as caught:
            self.customer.consume_credits(self.sms, 20)
        message = caught.exception.args[0]
        self.assertIn("20", message)
        self.assertIn("15", message)
        self.assertIn("requested", message)
        self.assertEqual(self.env["credit.consumption"].search_count([]), before)
        self.assertEqual(grant_a.quantity_remaining, 10)

    def test_expiry_at_the_boundary_date(self):
        grant = self._grant(10, "2026-01-01", "2026-02-01")
        with freeze_time("2026-01-31"):
            self.customer.consume_credits(self.sms, 3, date="2026-01-31")
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(grant.state, "active", "last usable day")
        with freeze_time("2026-02-01"):
            with self.assertRaisesRegex(UserError, "0 SMS available"):
                self.customer.consume_credits(self.sms, 1)
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(grant.state, "expired")
            self.assertEqual(grant.date_expired, fields.Date.to_date("2026-02-01"))
            self.assertEqual(grant.quantity_expired, 7, "breakage recorded")
            # Running the cron again changes nothing.
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(grant.quantity_expired, 7)

    def test_reversal_returns_units_even_after_expiry(self):
        grant = self._grant(10, "2026-01-01", "2026-02-01")
        with freeze_time("2026-01-20"):
            consumption = self.customer.consume_credits(self.sms, 4, reference="job 42")
            self.assertEqual(grant.quantity_remaining, 6)
        with freeze_time("2026-02-03"):
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(grant.quantity_expired, 6)
            consumption.action_reverse()
            self.assertEqual(consumption.state, "reversed")
            self.assertEqual(
                consumption.date_reversed, fields.Date.to_date("2026-02-03")
            )
            self.assertEqual(grant.quantity_consumed, 0)
            self.assertEqual(grant.quantity_remaining, 10)
            self.assertEqual(grant.state, "expired", "units come back expired")
            self.assertEqual(grant.quantity_expired, 10)
            # The allocation stays: the ledger keeps where the units went.
            self.assertEqual(consumption.allocation_ids.grant_id, grant)
            with self.assertRaisesRegex(UserError, "Only consumptions in state Done"):
                consumption.action_reverse()

    @freeze_time("2026-01-15")
    def test_reversal_reactivates_exhausted_grant(self):
        grant = self._grant(5, "2026-01-01", "2026-02-01")
        consumption = self.customer.consume_credits(self.sms, 5)
        self.assertEqual(grant.state, "exhausted")
        consumption.action_reverse()
        self.assertEqual(grant.state, "active")
        self.assertEqual(grant.quantity_remaining, 5)

    @freeze_time("2026-01-15")
    def test_idempotency_key_replay(self):
        grant = self._grant(10, "2026-01-01", "2026-02-01")
        first = self.customer.consume_credits(self.sms, 3, idempotency_key="req-1")
        again = self.customer.consume_credits(self.sms, 3, idempotency_key="req-1")
        self.assertEqual(first, again)
        self.assertEqual(grant.quantity_remaining, 7)
        self.assertEqual(
            self.env["credit.consumption"].search_count(
                [("idempotency_key", "=", "req-1")]
            ),
            1,
        )
        with self.assertRaisesRegex(UserError, "different request"):
            self.customer.consume_credits(self.sms, 4, idempotency_key="req-1")
        self.assertEqual(grant.quantity_remaining, 7)

    @freeze_time("2026-01-15")
    def test_reference_links_source_record(self):
        self._grant(10, "2026-01-01", "2026-02-01")
        consumption = self.customer.consume_credits(
            self.sms, 1, reference=self.customer
        )
        self.assertEqual(consumption.res_model, "res.partner")
        self.assertEqual(consumption.res_id, self.customer.id)
        self.assertEqual(consumption.reference, self.customer.display_name)
        self.assertEqual(consumption.action_open_source()["res_id"], self.customer.id)

    @freeze_time("2026-01-15")
    def test_bad_input(self):
        grant = self._grant(10, "2026-01-01", "2026-02-01")
        cases = [
            ((self.sms, 0), "must be positive"),
            ((self.sms, -2), "must be positive"),
            ((self.sms, 1.5), "finer than the rounding"),
            ((self.gb, 0.005), "finer than the rounding"),
            ((self.gb, 1), "has no FEFO data credits"),
        ]
        for args, message in cases:
            with self.subTest(args=args), self.assertRaisesRegex(UserError, message):
                self.customer.consume_credits(*args)
        self.sms.active = False
        with self.assertRaisesRegex(UserError, "archived"):
            self.customer.consume_credits(self.sms, 1)
        self.assertFalse(
            self.env["credit.consumption"]
            .search([])
            .filtered(lambda c: c.partner_id == self.customer)
        )
        self.assertEqual(grant.quantity_remaining, 10)

    def test_bad_configuration(self):
        with self.assertRaisesRegex(ValidationError, "has no credits"):
            self.env["credit.package"].create({"name": "Empty", "line_ids": []})
        with self.assertRaisesRegex(ValidationError, "must be positive"):
            self.env["credit.package"].create(
                {
                    "name": "Zero line",
                    "line_ids": [
                        Command.create({"credit_type_id": self.sms.id, "quantity": 0})
                    ],
                }
            )
        with self.assertRaisesRegex(ValidationError, "finer than the rounding"):
            self.env["credit.package"].create(
                {
                    "name": "Half SMS",
                    "line_ids": [
                        Command.create({"credit_type_id": self.sms.id, "quantity": 2.5})
                    ],
                }
            )
        with self.assertRaisesRegex(ValidationError, "validity of package"):
            self.env["credit.package"].create(
                {
                    "name": "No validity",
                    "validity_number": 0,
                    "line_ids": [
                        Command.create({"credit_type_id": self.sms.id, "quantity": 1})
                    ],
                }
            )
        with self.assertRaisesRegex(ValidationError, "at least"):
            self.env["credit.type"].create(
                {"name": "Dust", "unit_name": "x", "rounding": 0.00001}
            )

    @freeze_time("2026-01-15")
    def test_status_for_customer(self):
        self._grant(10, "2025-12-01", "2026-02-01")
        self._grant(4, "2026-01-03", "2026-02-01")
        self._grant(20, "2026-01-01", "2026-03-01")
        self._grant(8.5, "2026-01-01", "2026-03-01", ctype=self.gb)
        self.customer.consume_credits(self.sms, 5, date="2025-12-31")
        self.customer.consume_credits(self.sms, 3)
        reversed_one = self.customer.consume_credits(self.sms, 2)
        reversed_one.action_reverse()
        status = {
            row["credit_type_id"]: row for row in self.customer.get_credit_status()
        }
        self.assertEqual(status[self.sms.id]["remaining"], 26)
        self.assertEqual(
            status[self.sms.id]["next_expiry"], fields.Date.to_date("2026-02-01")
        )
        self.assertEqual(status[self.sms.id]["next_expiry_quantity"], 6)
        self.assertEqual(status[self.sms.id]["consumed_this_month"], 3)
        self.assertEqual(status[self.gb.id]["remaining"], 8.5)
        self.assertEqual(status[self.gb.id]["consumed_this_month"], 0)

    @freeze_time("2026-01-15")
    def test_balance_report_totals_match_ledger(self):
        other = self.env["res.partner"].create({"name": "Other customer"})
        self._grant(10, "2026-01-01", "2026-02-01")
        self._grant(20, "2026-01-01", "2026-03-01")
        self._grant(7, "2026-01-01", "2026-03-01", partner=other)
        self._grant(3.25, "2026-01-01", "2026-03-01", ctype=self.gb)
        self.customer.consume_credits(self.sms, 12)
        other.consume_credits(self.sms, 2)
        self.customer.consume_credits(self.gb, 1.5).action_reverse()
        self.customer.consume_credits(self.gb, 0.75)
        self.env.flush_all()
        partners = self.customer | other
        rows = self.env["credit.report.balance"].search(
            [("partner_id", "in", partners.ids)]
        )
        grants = self.env["credit.grant"].search([("partner_id", "in", partners.ids)])
        consumptions = self.env["credit.consumption"].search(
            [("partner_id", "in", partners.ids), ("state", "=", "done")]
        )
        for ctype in self.sms | self.gb:
            mine = rows.filtered(lambda r, t=ctype: r.credit_type_id == t)
            type_grants = grants.filtered(lambda g, t=ctype: g.credit_type_id == t)
            type_cons = consumptions.filtered(lambda c, t=ctype: c.credit_type_id == t)
            self.assertAlmostEqual(
                sum(mine.mapped("quantity_sold")), sum(type_grants.mapped("quantity"))
            )
            self.assertAlmostEqual(
                sum(mine.mapped("quantity_consumed")), sum(type_cons.mapped("quantity"))
            )
            self.assertAlmostEqual(
                sum(mine.mapped("quantity_remaining")),
                sum(type_grants.mapped("quantity")) - sum(type_cons.mapped("quantity")),
            )
        self.assertAlmostEqual(
            sum(
                rows.filtered(lambda r: r.partner_id == other).mapped(
                    "quantity_remaining"
                )
            ),
            5,
        )
        # The consumption report (read_group) gives the same totals per type.
        groups = dict(
            self.env["credit.consumption"]._read_group(
                [("partner_id", "in", partners.ids), ("state", "=", "done")],
                ["credit_type_id"],
                ["quantity:sum"],
            )
        )
        self.assertEqual(groups[self.sms], 14)
        self.assertEqual(groups[self.gb], 0.75)
        # The partner tab shows the same balance.
        self.assertEqual(
            self.customer.credit_balance_ids.filtered(
                lambda r: r.credit_type_id == self.sms
            ).quantity_remaining,
            18,
        )

    @freeze_time("2026-01-15")
    def test_balance_view_reads_pending_consumption_without_flush(self):
        """The balance view declares what it depends on: reading it right after
        consume_credits (nothing flushed by hand) sees the consumption."""
        self._grant(10, "2026-01-01", "2026-02-01")
        self.assertEqual(
            self.customer.credit_balance_ids.filtered(
                lambda r: r.credit_type_id == self.sms
            ).quantity_remaining,
            10,
        )
        self.customer.consume_credits(self.sms, 4)
        self.customer.invalidate_recordset(["credit_balance_ids"])
        self.env["credit.report.balance"].invalidate_model()
        row = self.customer.credit_balance_ids.filtered(
            lambda r: r.credit_type_id == self.sms
        )
        self.assertEqual(row.quantity_remaining, 6)
        self.assertEqual(row.quantity_consumed, 4)

    @freeze_time("2026-01-15")
    def test_grant_totals_follow_the_ledger_unit_by_unit(self):
        """A grant consumed one unit at a time, with reversals and a credit
        type in hundredths in between: its stored totals stay the sums of its
        allocation ledger (they are brought forward, not re-summed), and it is
        exhausted when nothing remains."""
        grant = self._grant(30, "2026-01-01", "2026-02-01")
        gb_grant = self._grant(2.5, "2026-01-01", "2026-02-01", ctype=self.gb)
        consumptions = self.env["credit.consumption"]
        for i in range(25):
            consumptions |= self.customer.consume_credits(self.sms, 1)
            if i % 7 == 3:
                consumptions[-1].action_reverse()
        self.customer.consume_credits(self.gb, 0.75)
        self.customer.consume_credits(self.gb, 1.25)
        self.env["credit.consumption"].consume_batch(
            [
                {
                    "customer": self.customer.id,
                    "credit_type": self.sms.id,
                    "quantity": 1,
                    "idempotency_key": f"unit-{i}",
                }
                for i in range(5)
            ]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        for record in grant | gb_grant:
            self.env.cr.execute(
                SQL(
                    "SELECT COALESCE(SUM(quantity), 0) FROM "
                    "credit_consumption_allocation WHERE grant_id = %s "
                    "AND state = 'done'",
                    record.id,
                )
            )
            ledger = self.env.cr.fetchone()[0]
            self.assertEqual(record.quantity_consumed, ledger)
            self.assertEqual(
                record.quantity_remaining, record.quantity - ledger, record.display_name
            )
        self.assertEqual(grant.quantity_consumed, 26)  # 25 + 5 - 4 reversed
        self.assertEqual(gb_grant.quantity_remaining, 0.5)
        self.assertEqual(gb_grant.state, "active")
        self.customer.consume_credits(self.gb, 0.5)
        self.assertEqual(gb_grant.state, "exhausted")
        self.assertEqual(gb_grant.quantity_remaining, 0)

    def test_expiry_email_once_per_grant(self):
        self.company.credit_expiry_notice_days = 7
        soon = self._grant(10, "2026-01-01", "2026-02-01")
        later = self._grant(10, "2026-01-01", "2026-03-01")
        Mail = self.env["mail.mail"]
        with freeze_time("2026-01-20"):
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertFalse(soon.expiry_notified, "12 days before: not yet")
        with freeze_time("2026-01-25"):
            before = Mail.search_count([("model", "=", "credit.grant")])
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertTrue(soon.expiry_notified)
            self.assertFalse(later.expiry_notified)
            mails = Mail.search(
                [("model", "=", "credit.grant"), ("res_id", "=", soon.id)]
            )
            self.assertEqual(len(mails), 1)
            self.assertIn(self.customer, mails.recipient_ids)
            self.assertIn("FEFO SMS", mails.subject)
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(
                Mail.search_count([("model", "=", "credit.grant")]), before + 1
            )

    @freeze_time("2026-01-15")
    def test_user_without_manager_group(self):
        self._grant(10, "2026-01-01", "2026-02-01")
        user = new_test_user(
            self.env,
            login="credit_user",
            groups="base.group_user,installment_credit.group_installment_user",
        )
        env = self.env(user=user)
        customer = self.customer.with_env(env)
        consumption = customer.consume_credits(self.sms.with_env(env), 2)
        self.assertEqual(consumption.quantity, 2)
        consumption.action_reverse()
        wizard = env["credit.consumption.register"].create(
            {"partner_id": customer.id, "credit_type_id": self.sms.id, "quantity": 3}
        )
        self.assertEqual(wizard.available, 10)
        wizard.action_confirm()
        self.assertEqual(customer.credit_grant_ids.quantity_remaining, 7)
        # The ledger is written only through the service methods.
        with self.assertRaises(AccessError):
            env["credit.consumption"].create(
                {
                    "partner_id": customer.id,
                    "company_id": self.company.id,
                    "credit_type_id": self.sms.id,
                    "quantity": 1,
                    "date": "2026-01-15",
                }
            )
        with self.assertRaises(AccessError):
            consumption.with_env(env).write({"quantity": 1})
        with self.assertRaises(AccessError):
            env["credit.type"].create({"name": "Nope", "unit_name": "x"})
        with self.assertRaises(AccessError):
            self.sms.with_env(env).write({"rounding": 0.5})
        with self.assertRaises(AccessError):
            env["credit.grant"].create(
                {
                    "partner_id": customer.id,
                    "credit_type_id": self.sms.id,
                    "quantity": 100,
                    "date_start": "2026-01-01",
                    "date_expiry": "2026-02-01",
                }
            )
        with self.assertRaises(AccessError):
            env["credit.package"].create(
                {
                    "name": "Nope",
                    "line_ids": [
                        Command.create({"credit_type_id": self.sms.id, "quantity": 1})
                    ],
                }
            )
        nobody = new_test_user(
            self.env, login="credit_nobody", groups="base.group_user"
        )
        with self.assertRaises(AccessError):
            self.customer.with_user(nobody).consume_credits(self.sms, 1)

    @freeze_time("2026-01-15")
    def test_multi_company(self):
        other_company = self.env["res.company"].create({"name": "Credits Co B"})
        sms_b = (
            self.env["credit.type"]
            .with_company(other_company)
            .create(
                {"name": "B SMS", "unit_name": "SMS", "company_id": other_company.id}
            )
        )
        grant_a = self._grant(10, "2026-01-01", "2026-02-01")
        grant_b = self._grant(
            30, "2026-01-01", "2026-02-01", ctype=sms_b, company=other_company
        )
        consumption_b = self.customer.with_company(other_company).consume_credits(
            sms_b, 5
        )
        self.assertEqual(consumption_b.company_id, other_company)
        self.assertEqual(grant_b.quantity_remaining, 25)
        self.assertEqual(grant_a.quantity_remaining, 10)
        # Idempotency keys are per company.
        self.customer.consume_credits(self.sms, 1, idempotency_key="k")
        self.customer.with_company(other_company).consume_credits(
            sms_b, 1, idempotency_key="k"
        )
        user_a = new_test_user(
            self.env,
            login="credit_user_a",
            groups="base.group_user,installment_credit.group_installment_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        env_a = self.env(user=user_a)
        self.assertEqual(
            env_a["credit.grant"].search([("partner_id", "=", self.customer.id)]),
            grant_a,
        )
        self.assertFalse(
            env_a["credit.consumption"].search([("company_id", "=", other_company.id)])
        )
        self.assertFalse(
            env_a["credit.report.balance"].search(
                [("company_id", "=", other_company.id)]
            )
        )
        with self.assertRaises(AccessError):
            self.customer.with_user(user_a).consume_credits(sms_b.with_user(user_a), 1)
        self.assertEqual(grant_b.quantity_remaining, 24)

    @freeze_time("2026-01-15")
    def test_consumption_cost_does_not_grow_with_history(self):
        """Same number of queries for a new customer and for one with a long
        history of consumptions and exhausted or expired grants."""
        newcomer = self.env["res.partner"].create({"name": "Newcomer"})
        veteran = self.env["res.partner"].create({"name": "Veteran"})
        self.env["credit.grant"].create(
            [
                {
                    "partner_id": veteran.id,
                    "credit_type_id": self.sms.id,
                    "quantity": 1,
                    "date_start": "2025-01-01",
                    "date_expiry": "2026-01-10",
                }
                for _i in range(60)
            ]
        )
        self.env["credit.grant"]._cron_expire_and_notify()
        self._grant(1000, "2026-01-01", "2026-06-01", partner=veteran)
        for index in range(150):
            veteran.consume_credits(self.sms, 1, idempotency_key=f"hist-{index}")
        self._grant(1000, "2026-01-01", "2026-06-01", partner=newcomer)

        def count_queries(partner, key):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            partner.consume_credits(self.sms, 3, idempotency_key=key)
            self.env.flush_all()
            return self.cr.sql_log_count - before

        count_queries(newcomer, "warm-up")
        new_count = count_queries(newcomer, "new")
        veteran_count = count_queries(veteran, "old")
        self.assertLessEqual(veteran_count, new_count)

    def test_views_and_actions_load(self):
        actions = [
            "credit_type_action",
            "credit_package_action",
            "credit_grant_action",
            "credit_grant_action_breakage",
            "credit_grant_action_expiring",
            "credit_consumption_action",
            "credit_consumption_action_report",
            "credit_report_balance_action",
            "credit_report_package_sale_action",
        ]
        for xmlid in actions:
            action = self.env.ref(f"installment_credit.{xmlid}")
            views = [(False, mode) for mode in action.view_mode.split(",")]
            result = self.env[action.res_model].get_views(views + [(False, "search")])
            self.assertTrue(result["views"], xmlid)
            self.env[action.res_model].search([], limit=1)
        for model in ("credit.consumption.register", "credit.package.sell"):
            self.env[model].get_views([(False, "form")])
        form = self.env["res.partner"].get_views([(False, "form")])
        self.assertIn("credit_balance_ids", form["views"]["form"]["arch"])
        settings = self.env["res.config.settings"].get_views([(False, "form")])
        self.assertIn("credit_availability", settings["views"]["form"]["arch"])
        self.assertTrue(
            self.env.ref("installment_credit.credit_report_balance_menu").action
        )

    def test_fefo_lookup_uses_the_index(self):
        """With realistic statistics, the FEFO lookup reads the composite index."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(
            SQL(
                """
                INSERT INTO credit_grant (partner_id, credit_type_id, company_id,
                       quantity, quantity_consumed, quantity_remaining, state,
                       date_start, date_expiry)
                SELECT p.id, %(type)s, %(company)s, 10, 0, 10,
                       (ARRAY['active', 'exhausted', 'expired'])[1 + mod(s, 3)],
                       DATE '2025-01-01', DATE '2026-01-01' + mod(s, 300)
                  FROM generate_series(1, 6000) s
                  JOIN LATERAL (
                        SELECT id FROM res_partner ORDER BY id
                        OFFSET mod(s, 20) LIMIT 1) p ON TRUE
                """,
                type=self.sms.id,
                company=self.company.id,
            )
        )
        cr.execute("ANALYZE credit_grant")
        cr.execute(
            SQL(
                """EXPLAIN SELECT id FROM credit_grant
                    WHERE partner_id = %s AND credit_type_id = %s
                      AND state = 'active' AND company_id = %s
                      AND date_start <= %s AND date_expiry > %s
                 ORDER BY date_expiry, date_start, id LIMIT 50 FOR UPDATE""",
                self.customer.id,
                self.sms.id,
                self.company.id,
                "2026-01-15",
                "2026-01-15",
            )
        )
        plan = "\n".join(row[0] for row in cr.fetchall())
        self.assertIn("credit_grant_fefo_index", plan)
