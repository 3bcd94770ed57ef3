"""Credit revenue recognised on use: deferred revenue, daily entry, breakage."""

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import CreditInvoicingCommon

D = fields.Date.to_date


@tagged("post_install", "-at_install")
class TestCreditRevenue(CreditInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env["account.account"]
        cls.deferred = Account.create(
            {
                "name": "Deferred credit revenue",
                "code": "209800",
                "account_type": "liability_current",
            }
        )
        cls.breakage = Account.create(
            {"name": "Credit breakage", "code": "409800", "account_type": "income"}
        )
        cls.company.sudo().write(
            {
                "credit_revenue_on_use": True,
                "credit_deferred_account_id": cls.deferred.id,
                "credit_breakage_account_id": cls.breakage.id,
            }
        )
        # 100 SMS for 30.00: 0.30 an SMS, whole cents.
        cls.pkg_sms = cls.env["credit.package"].create(
            {
                "name": "SMS 100",
                "package_kind": "subscription",
                "validity_number": 1,
                "validity_unit": "month",
                "list_price": 30.0,
                "line_ids": [
                    Command.create({"credit_type_id": cls.sms.id, "quantity": 100})
                ],
            }
        )
        cls.income = cls.pkg_sms.product_id.product_tmpl_id.get_product_accounts()[
            "income"
        ]
        cls.customer_b = cls.env["res.partner"].create({"name": "Customer B"})

    # ------------------------------------------------------------------
    def _run(self, until):
        return self.env["credit.revenue.run"]._cron_recognise(until=D(until))

    def _consume(self, quantity, date, partner=None, ctype=None):
        with freeze_time(date):
            return (partner or self.customer).consume_credits(
                ctype or self.sms, quantity, date=D(date)
            )

    def _entry_lines(self, move):
        """{(account, analytic): balance} of an entry's lines."""
        return {
            (
                line.account_id,
                tuple(sorted((line.analytic_distribution or {}).items())),
            ): line.balance
            for line in move.line_ids
        }

    def _deferred_balance(self, date):
        lines = self.env["account.move.line"].search(
            [
                ("account_id", "=", self.deferred.id),
                ("parent_state", "=", "posted"),
                ("date", "<=", date),
            ]
        )
        return -sum(lines.mapped("balance"))

    def _report_total(self, date):
        return sum(self.env["credit.revenue.report"]._deferred_at(D(date)).values())

    # ------------------------------------------------------------------
    @freeze_time("2026-01-10")
    def test_package_line_posts_to_deferred_revenue(self):
        invoice = self._sell(self.pkg_sms, quantity=2)
        line = invoice.invoice_line_ids
        self.assertEqual(line.account_id, self.deferred)
        grant = invoice.credit_grant_ids
        self.assertTrue(grant.revenue_deferred)
        self.assertEqual(grant.revenue_value, 60.0)
        self.assertAlmostEqual(grant.revenue_unit_value, 0.30)
        self.assertEqual(grant.revenue_account_id, self.income)
        self.assertEqual(grant.revenue_deferred_account_id, self.deferred)
        # A package of two types: the line's value spread over all its units,
        # the remainder on the last grant.
        invoice = self._sell(self.pkg_month)
        grants = invoice.credit_grant_ids.sorted("id")
        self.assertEqual(grants.mapped("revenue_value"), [38.46, 11.54])
        # The package's own deferred account wins over the company's.
        own = self.deferred.copy({"code": "209801"})
        self.pkg_sms.deferred_account_id = own
        invoice = self._sell(self.pkg_sms)
        self.assertEqual(invoice.invoice_line_ids.account_id, own)
        self.assertEqual(invoice.credit_grant_ids.revenue_deferred_account_id, own)

    def test_option_off_changes_nothing(self):
        self.company.sudo().credit_revenue_on_use = False
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms)
        self.assertEqual(invoice.invoice_line_ids.account_id, self.income)
        self.assertFalse(invoice.credit_grant_ids.revenue_deferred)
        self._consume(10, "2026-01-12")
        self.company.sudo().credit_revenue_on_use = True
        # Switched on afterwards: the grant sold before stays undeferred.
        with freeze_time("2026-01-13"):
            self.assertFalse(self._run("2026-01-12"))
        self.assertFalse(self.env["credit.revenue.line"].search([]))

    def test_daily_entry_lines_and_rerun(self):
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms)
        other = self._sell(self.pkg_sms, date="2026-01-10", partner=self.customer_b)
        self._consume(10, "2026-01-12")
        self._consume(5, "2026-01-12")
        self._consume(4, "2026-01-12", partner=self.customer_b)
        with freeze_time("2026-01-13"):
            moves = self._run("2026-01-12")
        self.assertEqual(len(moves), 1)
        self.assertEqual(moves.state, "posted")
        self.assertEqual(moves.date, D("2026-01-12"))
        self.assertEqual(moves.journal_id.type, "general")
        # One line per account: 19 SMS × 0.30.
        self.assertEqual(
            self._entry_lines(moves),
            {(self.deferred, ()): 5.70, (self.income, ()): -5.70},
        )
        self.assertEqual(other.credit_grant_ids.revenue_consumed_value, 1.20)
        # Run again for the same day: nothing more.
        with freeze_time("2026-01-13"):
            self.assertFalse(self._run("2026-01-12"))
        self.assertEqual(
            self.env["credit.revenue.entry"].search_count(
                [("date", "=", "2026-01-12")]
            ),
            1,
        )
        # A reversal the next day moves the value back.
        consumption = self.env["credit.consumption"].search(
            [("partner_id", "=", self.customer.id), ("quantity", "=", 5)]
        )
        with freeze_time("2026-01-13"):
            consumption.action_reverse()
        with freeze_time("2026-01-14"):
            moves = self._run("2026-01-13")
        self.assertEqual(
            self._entry_lines(moves),
            {(self.deferred, ()): -1.50, (self.income, ()): 1.50},
        )
        grant = invoice.credit_grant_ids
        self.assertEqual(grant.revenue_consumed_qty, 10)
        self.assertEqual(grant.revenue_consumed_value, 3.0)

    def test_analytic_distribution_lines(self):
        plan = self.env["account.analytic.plan"].create({"name": "Channels"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Web", "plan_id": plan.id}
        )
        distribution = {str(analytic.id): 100.0}
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms, post=False)
            invoice.invoice_line_ids.analytic_distribution = distribution
            invoice.action_post()
            self._sell(self.pkg_sms, partner=self.customer_b)
        self._consume(10, "2026-01-12")
        self._consume(20, "2026-01-12", partner=self.customer_b)
        with freeze_time("2026-01-13"):
            move = self._run("2026-01-12")
        self.assertEqual(
            self._entry_lines(move),
            {
                (self.deferred, ()): 9.0,
                (self.income, ()): -6.0,
                (self.income, ((str(analytic.id), 100.0),)): -3.0,
            },
        )

    def test_skipped_days_caught_up(self):
        with freeze_time("2026-01-10"):
            self._sell(self.pkg_sms)
        self._consume(10, "2026-01-12")
        self._consume(20, "2026-01-13")
        # No run on the 13th nor the 14th: the run of the 15th books each day.
        with freeze_time("2026-01-15"):
            moves = self._run("2026-01-14")
        self.assertEqual(moves.mapped("date"), [D("2026-01-12"), D("2026-01-13")])
        self.assertEqual(
            [self._entry_lines(m)[self.income, ()] for m in moves], [-3.0, -6.0]
        )
        # A consumption entered late, dated a day already booked, goes to the
        # entry of the next day booked.
        self._consume(1, "2026-01-13")
        with freeze_time("2026-01-16"):
            moves = self._run("2026-01-15")
        self.assertEqual(moves.date, D("2026-01-15"))
        self.assertEqual(self._entry_lines(moves)[self.income, ()], -0.30)
        self.assertEqual(self._deferred_balance("2026-01-15"), 30.0 - 9.30)

    def test_breakage_and_rounding_remainder(self):
        # 3 SMS for 10.00: 3.33, 3.34 and 3.33; the last unit takes the rest.
        pkg = self.pkg_sms.copy({"name": "SMS 3", "list_price": 10.0})
        pkg.line_ids.quantity = 3
        with freeze_time("2026-01-10"):
            invoice = self._sell(pkg)
        grant = invoice.credit_grant_ids
        self.assertEqual(grant.revenue_value, 10.0)
        self._consume(1, "2026-01-12")
        with freeze_time("2026-01-13"):
            self._run("2026-01-12")
        self.assertEqual(grant.revenue_consumed_value, 3.33)
        self._consume(1, "2026-01-13")
        with freeze_time("2026-01-14"):
            self._run("2026-01-13")
        self.assertEqual(grant.revenue_consumed_value, 6.67)
        # The third unit expires: breakage takes what is left, to the cent.
        with freeze_time("2026-02-10"):
            self.env["credit.grant"]._cron_expire_and_notify()
        self.assertEqual(grant.state, "expired")
        with freeze_time("2026-02-11"):
            move = self._run("2026-02-10")
        self.assertEqual(
            self._entry_lines(move),
            {(self.deferred, ()): 3.33, (self.breakage, ()): -3.33},
        )
        self.assertEqual(grant.revenue_breakage_value, 3.33)
        self.assertEqual(
            grant.revenue_consumed_value + grant.revenue_breakage_value, 10.0
        )
        self.assertEqual(self._deferred_balance("2026-02-10"), 0.0)
        # Nothing left to book.
        with freeze_time("2026-02-12"):
            self.assertFalse(self._run("2026-02-11"))

    def test_credit_note_takes_deferred_value_back(self):
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms, quantity=2)
        self._consume(50, "2026-01-12")
        with freeze_time("2026-01-15"):
            refund = invoice._reverse_moves(
                [{"invoice_date": D("2026-01-15"), "date": D("2026-01-15")}]
            )
            refund.invoice_line_ids.quantity = 1
            refund.action_post()
        self.assertEqual(refund.invoice_line_ids.account_id, self.deferred)
        grant = invoice.credit_grant_ids
        self.assertEqual(grant.revenue_credited_qty, 100)
        self.assertEqual(grant.revenue_credited_value, 30.0)
        credit = self.env["credit.revenue.line"].search([("kind", "=", "credit")])
        self.assertEqual((credit.date, credit.amount), (D("2026-01-15"), 30.0))
        with freeze_time("2026-01-16"):
            self._run("2026-01-15")
        # 200 sold, 100 credited, 50 used: 50 SMS (15.00) deferred.
        self.assertEqual(self._deferred_balance("2026-01-15"), 15.0)
        self.assertEqual(self._report_total("2026-01-15"), 15.0)
        # Before the credit note, before the run: the report follows its dates.
        self.assertEqual(self._report_total("2026-01-11"), 60.0)
        self.assertEqual(self._deferred_balance("2026-01-11"), 60.0)

    def test_deferred_balance_equals_report_equals_unused_units(self):
        """Mixed history: sales, consumptions, a reversal, a credit note, an
        expiry; at each date the deferred account's balance, the report's
        total and the value of the units not used nor expired are equal."""
        with freeze_time("2026-01-10"):
            sale_a = self._sell(self.pkg_sms, quantity=2)
            self._sell(self.pkg_sms, partner=self.customer_b)
        with freeze_time("2026-01-20"):
            self._sell(self.pkg_sms, date="2026-01-20", partner=self.customer_b)
        self._consume(30, "2026-01-12")
        used = self._consume(12, "2026-01-12", partner=self.customer_b)
        self._consume(7, "2026-01-14")
        with freeze_time("2026-01-15"):
            used.action_reverse()
        with freeze_time("2026-01-16"):
            self._run("2026-01-15")
        self._consume(70, "2026-01-21", partner=self.customer_b)
        with freeze_time("2026-01-22"):
            refund = sale_a._reverse_moves(
                [{"invoice_date": D("2026-01-22"), "date": D("2026-01-22")}]
            )
            refund.invoice_line_ids.quantity = 1
            refund.action_post()
        with freeze_time("2026-01-23"):
            self._run("2026-01-22")
        # The customer B's first grant expires with 30 SMS unused.
        with freeze_time("2026-02-10"):
            self.env["credit.grant"]._cron_expire_and_notify()
            self._consume(5, "2026-02-10", partner=self.customer_b)
        with freeze_time("2026-02-11"):
            self._run("2026-02-10")

        def unused_value():
            grants = self.env["credit.grant"].search(
                [("revenue_deferred", "=", True), ("state", "=", "active")]
            )
            return round(sum(grants.mapped("quantity_remaining")) * 0.30, 2)

        for date in (
            "2026-01-11",
            "2026-01-15",
            "2026-01-22",
            "2026-02-09",
            "2026-02-10",
        ):
            self.assertAlmostEqual(
                self._deferred_balance(date), self._report_total(date), places=2
            )
        self.assertAlmostEqual(self._deferred_balance("2026-02-10"), unused_value())
        # A: 200 − 100 credited − 37 used = 63, expired on 02-10; B: 100 − 70
        # used, 30 expired (first grant), 100 − 5 (second) = 95 unused.
        self.assertAlmostEqual(unused_value(), 95 * 0.30)
        per_customer = self.env["credit.revenue.report"]._deferred_at(D("2026-02-10"))
        self.assertAlmostEqual(per_customer[self.customer, self.sms], 0.0)
        self.assertAlmostEqual(per_customer[self.customer_b, self.sms], 95 * 0.30)
        # Before the expiry: A's 63 units were still deferred.
        per_customer = self.env["credit.revenue.report"]._deferred_at(D("2026-02-09"))
        self.assertAlmostEqual(per_customer[self.customer, self.sms], 63 * 0.30)
        breakage = self.env["account.move.line"].search(
            [("account_id", "=", self.breakage.id)]
        )
        self.assertAlmostEqual(-sum(breakage.mapped("balance")), (63 + 30) * 0.30)

    def test_reversal_after_expiry_is_breakage(self):
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms)
        consumption = self._consume(10, "2026-01-12")
        with freeze_time("2026-02-10"):
            self.env["credit.grant"]._cron_expire_and_notify()
        with freeze_time("2026-02-11"):
            moves = self._run("2026-02-10")
        self.assertEqual(moves.mapped("date"), [D("2026-01-12"), D("2026-02-10")])
        self.assertEqual(self._entry_lines(moves[1])[self.breakage, ()], -27.0)
        # The units come back to the expired grant: their value goes from
        # income to breakage, the deferred account is not touched.
        with freeze_time("2026-02-11"):
            consumption.action_reverse()
        with freeze_time("2026-02-12"):
            move = self._run("2026-02-11")
        self.assertEqual(
            self._entry_lines(move),
            {(self.income, ()): 3.0, (self.breakage, ()): -3.0},
        )
        grant = invoice.credit_grant_ids
        self.assertEqual(
            (grant.revenue_consumed_value, grant.revenue_breakage_value), (0.0, 30.0)
        )
        self.assertEqual(self._deferred_balance("2026-02-11"), 0.0)
        self.assertEqual(self._report_total("2026-02-11"), 0.0)

    def test_settings_rights_and_accounts_required(self):
        settings = Form(self.env["res.config.settings"])
        self.assertTrue(settings.credit_revenue_on_use)
        self.assertEqual(settings.credit_deferred_account_id, self.deferred)
        settings.credit_revenue_on_use = False
        settings.save()
        self.assertFalse(self.company.credit_revenue_on_use)
        user = new_test_user(
            self.env,
            login="revenue_user",
            groups="base.group_system,account.group_account_invoice",
        )
        with self.assertRaisesRegex(AccessError, "managers"):
            self.company.with_user(user).credit_revenue_on_use = True
        with self.assertRaisesRegex(ValidationError, "breakage account"):
            self.company.sudo().write(
                {"credit_revenue_on_use": True, "credit_breakage_account_id": False}
            )

    def test_usable_when_paid(self):
        """Units usable once paid: the line is deferred at posting, the grants
        created at payment carry its value."""
        self.company.credit_availability = "paid"
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms)
            self.assertEqual(invoice.invoice_line_ids.account_id, self.deferred)
            self.assertFalse(invoice.credit_grant_ids)
            self._register_payment(invoice, D("2026-01-11"))
        grant = invoice.credit_grant_ids
        self.assertTrue(grant.revenue_deferred)
        self.assertEqual(grant.revenue_value, 30.0)
        self._consume(10, "2026-01-12")
        with freeze_time("2026-01-13"):
            move = self._run("2026-01-12")
        self.assertEqual(self._entry_lines(move)[self.income, ()], -3.0)

    def test_scheduled_action_and_report_screen(self):
        with freeze_time("2026-01-10"):
            self._sell(self.pkg_sms)
        self._consume(10, "2026-01-12")
        cron = self.env.ref("installment_credit.ir_cron_credit_revenue")
        with freeze_time("2026-01-13 02:00"):
            cron.method_direct_trigger()
        entry = self.env["credit.revenue.entry"].search([])
        self.assertEqual(entry.date, D("2026-01-12"))
        self.assertEqual(entry.move_id.state, "posted")
        wizard = self.env["credit.revenue.report.open"].create({"date": "2026-01-12"})
        action = wizard.action_open()
        self.assertEqual(action["res_model"], "credit.revenue.report")
        rows = self.env["credit.revenue.report"].search(action["domain"])
        self.assertEqual(sorted(rows.mapped("kind")), ["consumption", "sale"])
        self.assertAlmostEqual(sum(rows.mapped("amount")), 27.0)
        for view in ("pivot", "list", "search"):
            self.env["credit.revenue.report"].get_view(view_type=view)

    def test_option_switched_off_keeps_recognising_deferred_grants(self):
        with freeze_time("2026-01-10"):
            invoice = self._sell(self.pkg_sms)
        self.company.sudo().credit_revenue_on_use = False
        self._consume(10, "2026-01-12")
        with freeze_time("2026-01-13"):
            move = self._run("2026-01-12")
        self.assertEqual(self._entry_lines(move)[self.income, ()], -3.0)
        # Sold after the switch: income at once, nothing deferred.
        with freeze_time("2026-01-13"):
            later = self._sell(self.pkg_sms, date="2026-01-13", partner=self.customer_b)
        self.assertEqual(later.invoice_line_ids.account_id, self.income)
        self.assertFalse(later.credit_grant_ids.revenue_deferred)
        self.assertTrue(invoice.credit_grant_ids.revenue_deferred)
