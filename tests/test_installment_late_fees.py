"""Issue 18, point 11: late fees charged by the daily run."""

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import InstallmentCommon
from .test_guard_runs import GUARD_LOGGER, GuardedRunMixin


class LateFeeMixin:
    @classmethod
    def _setup_late_fees(cls, company, **terms):
        cls.fee_account = cls.env["account.account"].create(
            {
                "name": "Late fee income",
                "code": "709900",
                "account_type": "income_other",
                "company_ids": [Command.set(company.ids)],
            }
        )
        cls.fee_tax = cls.env["account.tax"].create(
            {
                "name": "Fee tax 10%",
                "amount": 10.0,
                "type_tax_use": "sale",
                "company_id": company.id,
            }
        )
        cls.fee_product = (
            cls.env["product.product"]
            .with_company(company)
            .create(
                {
                    "name": "Late fee",
                    "type": "service",
                    "property_account_income_id": cls.fee_account.id,
                    "taxes_id": [Command.set(cls.fee_tax.ids)],
                    "company_id": company.id,
                }
            )
        )
        company.write(
            {
                "installment_late_fee_enabled": True,
                "installment_late_fee_type": "fixed",
                "installment_late_fee_amount": 25.0,
                "installment_late_fee_grace_days": 5,
                "installment_late_fee_repeat_days": 0,
                "installment_late_fee_max_count": 1,
                "installment_late_fee_product_id": cls.fee_product.id,
                **terms,
            }
        )


@tagged("post_install", "-at_install")
class TestLateFees(LateFeeMixin, InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["installment.reminder.rule"].sudo().search([]).action_archive()
        cls._setup_late_fees(cls.company)
        with freeze_time("2026-01-10"):
            cls.invoice = cls._invoice(900.0)
            cls.plan = cls.invoice.create_installment_plan(
                count=3, first_due_date="2026-02-10"
            )
        cls.line1, cls.line2, cls.line3 = cls.plan.line_ids.sorted("sequence")

    def _daily(self, date):
        with freeze_time(date):
            self.env["installment.plan"]._cron_installment_daily()

    def _fees(self, plan=None):
        return self.env["installment.late.fee"].search(
            [("plan_id", "=", (plan or self.plan).id)], order="id"
        )

    def test_settings_off_by_default_and_then_nothing_is_charged(self):
        company = self.env["res.company"].create({"name": "New company"})
        self.assertFalse(company.installment_late_fee_enabled)
        self.company.installment_late_fee_enabled = False
        self._daily("2026-03-20")
        self.assertEqual(self.line1.state, "late")
        self.assertFalse(self._fees())
        self.assertFalse(self.plan.late_fee_move_ids)

    def test_enabling_without_product_or_amount_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "choose the late fee product"):
            self.company.installment_late_fee_product_id = False
        with self.assertRaisesRegex(ValidationError, "amount above zero"):
            self.company.installment_late_fee_amount = 0.0
        with self.assertRaisesRegex(ValidationError, "percentage above 0"):
            self.company.write(
                {
                    "installment_late_fee_type": "percentage",
                    "installment_late_fee_percent": 0.0,
                }
            )

    def test_settings_screen_sets_the_company_terms(self):
        settings = Form(self.env["res.config.settings"])
        self.assertTrue(settings.installment_late_fee_enabled)
        settings.installment_late_fee_type = "percentage"
        settings.installment_late_fee_percent = 1.5
        settings.installment_late_fee_repeat_days = 30
        settings.installment_late_fee_max_count = 3
        settings.save().execute()
        self.assertRecordValues(
            self.company,
            [
                {
                    "installment_late_fee_type": "percentage",
                    "installment_late_fee_percent": 1.5,
                    "installment_late_fee_repeat_days": 30,
                    "installment_late_fee_max_count": 3,
                }
            ],
        )

    def test_daily_run_twice_the_same_day_charges_once(self):
        # due 02/10, 5 grace days: nothing until 02/16
        self._daily("2026-02-15")
        self.assertEqual(self.line1.state, "late")
        self.assertFalse(self._fees())
        self._daily("2026-02-16")
        fee = self._fees()
        self.assertEqual(len(fee), 1)
        self.assertRecordValues(
            fee,
            [
                {
                    "plan_line_id": self.line1.id,
                    "period": 1,
                    "amount": 25.0,
                    "amount_late": 300.0,
                    "partner_id": self.partner_a.id,
                }
            ],
        )
        move = fee.fee_move_id
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(move.installment_fee_plan_id, self.plan)
        self.assertEqual(move.invoice_date_due.isoformat(), "2026-02-16")
        line = move.invoice_line_ids
        self.assertEqual(line.product_id, self.fee_product)
        self.assertEqual(line.account_id, self.fee_account)
        self.assertEqual(line.tax_ids, self.fee_tax)
        self.assertAlmostEqual(move.amount_total, 27.5)
        self.assertFalse(move.installment_plan_id, "a fee invoice gets no plan")
        self.assertEqual(self.plan.late_fee_move_ids, move)
        self.assertEqual(self.plan.late_fee_count, 1)
        self.assertEqual(self.plan.amount_late_fees, 25.0)
        self.assertEqual(self.line1.late_fee_ids, fee)
        self.assertIn(move.name, str(self.plan.message_ids[0].body))
        # the same day again: nothing more
        self._daily("2026-02-16")
        self.assertEqual(self._fees(), fee)
        self.assertEqual(self.plan.late_fee_move_ids, move)
        # no repeat: later days charge nothing on this installment either
        self._daily("2026-02-25")
        self.assertEqual(self._fees(), fee)

    def test_skipped_days_charge_the_periods_due_up_to_the_maximum(self):
        self.company.write(
            {
                "installment_late_fee_grace_days": 0,
                "installment_late_fee_repeat_days": 7,
                "installment_late_fee_max_count": 3,
            }
        )
        self._daily("2026-02-11")  # 1 day late: period 1
        self.assertEqual(self._fees().mapped("period"), [1])
        # no run for four weeks: 28 days late = periods 2, 3, 4, capped at 3
        self._daily("2026-03-10")
        fees = self._fees()
        self.assertEqual(fees.mapped("period"), [1, 2, 3])
        self.assertEqual(fees.plan_line_id, self.line1)
        self.assertEqual(len(fees.fee_move_id), 2, "one invoice per run and plan")
        second = fees[1:].fee_move_id
        self.assertEqual(len(second.invoice_line_ids), 2)
        # next catch-up: installments 2 (51 days late) and 3 (20 days) on one
        # invoice, line 1 at its maximum
        self._daily("2026-04-30")
        fees = self._fees()
        per_line = {
            line: fees.filtered(lambda f, line=line: f.plan_line_id == line).mapped(
                "period"
            )
            for line in (self.line1, self.line2, self.line3)
        }
        self.assertEqual(per_line[self.line1], [1, 2, 3])
        self.assertEqual(per_line[self.line2], [1, 2, 3])
        self.assertEqual(per_line[self.line3], [1, 2, 3])
        third = fees[3:].fee_move_id
        self.assertEqual(len(third), 1)
        self.assertEqual(len(third.invoice_line_ids), 6)
        self.assertAlmostEqual(third.amount_untaxed, 150.0)
        self._daily("2026-06-30")
        self.assertEqual(len(self._fees()), 9)

    def test_paid_installment_is_not_charged(self):
        self._pay(self.invoice, 300.0, date="2026-02-05")
        self._daily("2026-03-20")
        # line 2 is due 03/10: 10 days late; line 1 was paid
        self.assertEqual(self.line1.state, "paid")
        self.assertEqual(self._fees().plan_line_id, self.line2)
        # cancelled plans are not charged either
        with freeze_time("2026-03-21"):
            self.plan.action_cancel()
        self._daily("2026-04-30")
        self.assertEqual(self._fees().plan_line_id, self.line2)

    def test_fixed_fee_converted_to_the_invoice_currency(self):
        currency = self.setup_other_currency("EUR")  # 2 EUR per USD from 2017
        with freeze_time("2026-01-10"):
            invoice = self._invoice(900.0, currency=currency)
            plan = invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        self._daily("2026-02-16")
        fees = self._fees(plan)
        self.assertEqual(fees.mapped("amount"), [50.0])
        self.assertEqual(fees.currency_id, currency)
        self.assertEqual(fees.fee_move_id.currency_id, currency)
        self.assertAlmostEqual(fees.fee_move_id.amount_untaxed, 50.0)

    def test_percentage_of_the_late_residual_rounded(self):
        self.company.write(
            {
                "installment_late_fee_type": "percentage",
                "installment_late_fee_percent": 2.5,
                "installment_late_fee_grace_days": 0,
                "installment_late_fee_repeat_days": 10,
                "installment_late_fee_max_count": 2,
            }
        )
        with freeze_time("2026-01-10"):
            invoice = self._invoice(100.0)
            plan = invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        first = plan.line_ids.sorted("sequence")[0]
        self.assertEqual(first.amount, 33.33)
        self._daily("2026-02-11")
        # 2.5% of 33.33 = 0.83325 -> 0.83
        self.assertEqual(self._fees(plan).mapped("amount"), [0.83])
        self._pay(invoice, 10.0, date="2026-02-12")
        self.assertAlmostEqual(first.amount_residual, 23.33)
        self._daily("2026-02-21")
        # period 2 on what is still late: 2.5% of 23.33 = 0.58325 -> 0.58
        self.assertEqual(self._fees(plan).mapped("amount"), [0.83, 0.58])
        self.assertEqual(self._fees(plan)[1].amount_late, 23.33)

    def test_reminder_email_mentions_the_fees_charged(self):
        self.partner_a.email = "partner_a@example.com"
        self.env["installment.reminder.rule"].create(
            {
                "name": "after 6",
                "target": "installment",
                "offset_days": 6,
                "mail_template_id": self.env.ref(
                    "installment_credit.mail_template_installment_reminder_overdue"
                ).id,
                "company_id": self.company.id,
            }
        )
        self._daily("2026-02-16")
        fee = self._fees()
        mail = self.env["mail.mail"].search(
            [("recipient_ids", "in", self.partner_a.ids)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn("Late fees charged", mail.body_html)
        self.assertIn(fee.fee_move_id.name, mail.body_html)
        self.assertIn("Installment 1 of 3", mail.body_html)

    def test_query_count_does_not_grow_with_late_installments(self):
        """The fee step costs the same for a plan with 2 or 8 late
        installments: one candidate query, one claim, one invoice."""
        self.company.installment_late_fee_grace_days = 0
        with freeze_time("2026-01-05"):
            plans = [
                self._invoice(800.0, date="2026-01-05").create_installment_plan(
                    count=count, interval_unit="day", first_due_date=first
                )
                for count, first in (
                    (2, "2026-01-06"),
                    (2, "2026-01-11"),
                    (8, "2026-01-16"),
                )
            ]
        Run = self.env["installment.late.fee.run"]
        queries = []
        # each run finds exactly one plan's installments newly chargeable
        for plan, date in zip(
            plans, ("2026-01-10", "2026-01-15", "2026-01-25"), strict=True
        ):
            with freeze_time(date):
                self.env["installment.plan.line"]._flip_late_installments()
                self.env.flush_all()
                before = self.env.cr.sql_log_count
                Run._cron_charge_late_fees()
                queries.append(self.env.cr.sql_log_count - before)
            self.assertEqual(len(self._fees(plan)), len(plan.line_ids))
            self.assertEqual(len(plan.late_fee_move_ids), 1)
        self.assertEqual(len(plans[2].late_fee_move_ids.invoice_line_ids), 8)
        _warm, two, eight = queries
        self.assertEqual(eight, two, queries)


@tagged("post_install", "-at_install")
class TestLateFeeRunGuard(LateFeeMixin, GuardedRunMixin, InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["installment.reminder.rule"].sudo().search([]).action_archive()
        cls._setup_late_fees(cls.company, installment_late_fee_grace_days=0)
        cls.bad_receivable = cls.company_data["default_account_receivable"].copy(
            {"code": "121999", "name": "Receivable to retire"}
        )
        cls.bad = cls.env["res.partner"].create(
            {
                "name": "Bad Customer",
                "property_account_receivable_id": cls.bad_receivable.id,
            }
        )
        cls.customers = cls.bad | cls.partner_a | cls.partner_b
        cls.plans = cls.env["installment.plan"]
        with freeze_time("2026-01-10"):
            for customer in cls.customers:
                invoice = cls._invoice(300.0, partner=customer)
                cls.plans |= invoice.create_installment_plan(
                    count=3, first_due_date="2026-02-10"
                )
        # the bad customer's receivable account was retired after invoicing:
        # its fee invoice cannot be posted
        cls.bad_receivable.deprecated = True

    def _daily(self, cron_id):
        self.env["installment.plan"].with_context(
            cron_id=cron_id
        )._cron_installment_daily()

    def _fees(self, customer):
        return self.env["installment.late.fee"].search(
            [("partner_id", "=", customer.id)]
        )

    def test_failing_customer_is_skipped_and_charged_next_run(self):
        with freeze_time("2026-02-12"):
            error = self._run_as_cron(
                self._daily, "installment_credit.ir_cron_installment_daily"
            )
        self.assertIsNotNone(error)
        self.assertIn("Late fees", str(error))
        self.assertIn("Bad Customer", str(error))
        self.assertFalse(self._fees(self.bad), "nothing half-written")
        self.assertFalse(self.plans[0].late_fee_move_ids)
        for good in (self.partner_a, self.partner_b):
            self.assertEqual(len(self._fees(good)), 1, good.name)
            self.assertEqual(self._fees(good).fee_move_id.state, "posted")
        self.assertSkippedNoted(self.bad, "Late fee skipped")
        # fixed: the next run charges it, and only it
        self.bad_receivable.deprecated = False
        with freeze_time("2026-02-13"), mute_logger(GUARD_LOGGER):
            self._daily(False)
        for customer in self.customers:
            self.assertEqual(len(self._fees(customer)), 1, customer.name)


@tagged("post_install", "-at_install")
class TestLateFeePortal(LateFeeMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls._setup_late_fees(company, installment_late_fee_grace_days=0)
        cls.portal_user = new_test_user(
            cls.env,
            login="late_fee_portal",
            groups="base.group_portal",
            name="Late Fee Portal Customer",
        )
        cls.other = cls.env["res.partner"].create({"name": "Other fee customer"})
        cls.plans = {}
        for partner in (cls.portal_user.partner_id, cls.other):
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": "2020-01-10",
                    "date": "2020-01-10",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "service", "price_unit": 600.0, "tax_ids": []}
                        )
                    ],
                }
            )
            invoice.action_post()
            cls.plans[partner] = invoice.create_installment_plan(
                count=3, first_due_date="2020-02-10"
            )
        cls.env["installment.plan.line"]._flip_late_installments(today="2020-02-20")
        cls.env["installment.late.fee.run"]._cron_charge_late_fees(today="2020-02-20")

    def test_portal_lists_own_fees_with_invoice_links(self):
        own = self.plans[self.portal_user.partner_id]
        other = self.plans[self.other]
        fee = own.late_fee_ids
        self.assertEqual(len(fee), 1)
        self.assertTrue(other.late_fee_ids)
        self.authenticate("late_fee_portal", "late_fee_portal")
        text = self.url_open(f"/my/installments/{own.id}").text
        self.assertIn("Late fees charged", text)
        self.assertIn(fee.fee_move_id.name, text)
        self.assertIn(f"/my/invoices/{fee.fee_move_id.id}", text)
        self.assertNotIn(other.late_fee_ids.fee_move_id.name, text)
        Fee = self.env["installment.late.fee"].with_user(self.portal_user)
        self.assertEqual(Fee.search([]), fee)
        with self.assertRaises(AccessError):
            Fee.browse(other.late_fee_ids.ids).read(["amount"])
