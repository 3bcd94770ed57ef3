from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import InstallmentCommon


def to_str(dates):
    return [fields.Date.to_string(d) for d in dates]


@tagged("post_install", "-at_install")
@freeze_time("2026-01-05")
class TestPaymentTermInstallments(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term = cls.env["account.payment.term"].create(
            {
                "name": "Day-15 installments",
                "installment_enabled": True,
                "installment_count": 3,
                "installment_first_type": "day_of_month",
                "installment_first_day_of_month": 15,
                "installment_interval_unit": "month",
            }
        )

    def _dates(self, term, date_ref):
        return to_str(
            term._installment_dates(fields.Date.to_date(date_ref), self.company)
        )

    def test_day_of_month_before_on_after(self):
        self.assertEqual(
            self._dates(self.term, "2026-03-10"),
            ["2026-03-15", "2026-04-15", "2026-05-15"],
        )
        # On the day itself: not yet passed, due the same day (documented choice).
        self.assertEqual(self._dates(self.term, "2026-03-15")[0], "2026-03-15")
        self.assertEqual(
            self._dates(self.term, "2026-03-20"),
            ["2026-04-15", "2026-05-15", "2026-06-15"],
        )

    def test_day_31_through_february(self):
        self.term.installment_first_day_of_month = 31
        self.assertEqual(
            self._dates(self.term, "2024-01-31"),
            ["2024-01-31", "2024-02-29", "2024-03-31"],
        )
        self.assertEqual(
            self._dates(self.term, "2025-01-31"),
            ["2025-01-31", "2025-02-28", "2025-03-31"],
        )
        self.assertEqual(self._dates(self.term, "2025-02-01")[0], "2025-02-28")

    def test_fixed_dates_mixed_with_recurrence(self):
        self.term.write(
            {
                "installment_count": 6,
                "installment_first_type": "invoice_date",
                "installment_date_3": "2026-03-01",
                "installment_date_4": "2026-03-20",
            }
        )
        self.assertEqual(
            self._dates(self.term, "2026-01-10"),
            [
                "2026-01-10",
                "2026-02-10",  # recurrence from the 1st
                "2026-03-01",  # fixed
                "2026-03-20",  # fixed
                "2026-04-10",  # recurrence from the 4th, on the first's day
                "2026-05-10",
            ],
        )

    def test_weekly_and_day_of_month_recurrence(self):
        self.term.write(
            {
                "installment_first_type": "after_days",
                "installment_first_days": 7,
                "installment_interval_unit": "week",
                "installment_interval_number": 2,
            }
        )
        self.assertEqual(
            self._dates(self.term, "2026-01-01"),
            ["2026-01-08", "2026-01-22", "2026-02-05"],
        )
        self.term.write(
            {
                "installment_count": 4,
                "installment_interval_unit": "month",
                "installment_interval_number": 1,
                "installment_day_mode": "day_of_month",
                "installment_recurring_day": 30,
            }
        )
        self.assertEqual(
            self._dates(self.term, "2026-01-01"),
            ["2026-01-08", "2026-02-28", "2026-03-30", "2026-04-30"],
        )

    def test_working_day_shift(self):
        self.company.installment_working_day_policy = "next"
        # 2026-08-15 is a Saturday.
        self.assertEqual(
            self._dates(self.term, "2026-08-01"),
            ["2026-08-17", "2026-09-15", "2026-10-15"],
        )

    def test_posting_creates_plan_with_identical_lines(self):
        invoice = self._invoice(
            1000.0, date="2026-03-10", post=False, invoice_payment_term_id=self.term.id
        )
        terms = invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        )
        self.assertEqual(
            to_str(terms.sorted("date_maturity").mapped("date_maturity")),
            ["2026-03-15", "2026-04-15", "2026-05-15"],
        )
        invoice.action_post()
        plan = invoice.installment_plan_id
        self.assertTrue(plan)
        self.assertLines(
            plan,
            [("2026-03-15", 333.33), ("2026-04-15", 333.33), ("2026-05-15", 333.34)],
        )
        self.assertEqual(
            sorted(
                zip(
                    to_str(terms.mapped("date_maturity")),
                    terms.mapped("balance"),
                    strict=True,
                )
            ),
            [("2026-03-15", 333.33), ("2026-04-15", 333.33), ("2026-05-15", 333.34)],
        )
        self.assertEqual(fields.Date.to_string(invoice.invoice_date_due), "2026-05-15")

        # Reset to draft, change the date, re-post: a new plan with new dates.
        invoice.button_draft()
        self.assertEqual(plan.state, "cancelled")
        invoice.invoice_date = "2026-03-20"
        invoice.action_post()
        self.assertLines(
            invoice.installment_plan_id,
            [("2026-04-15", 333.33), ("2026-05-15", 333.33), ("2026-06-15", 333.34)],
        )

    def _stored(self, records):
        """Every stored computed value of ``records``, read from the database."""
        names = [
            name
            for name, field in records._fields.items()
            if field.store and field.compute and field.column_type
        ]
        records.env.flush_all()
        records.env.invalidate_all()
        return {record.id: {name: record[name] for name in names} for record in records}

    def test_posting_writes_what_the_computations_give(self):
        # Posting writes the plan's totals and statuses with the records
        # instead of computing them; they must be exactly what the
        # computations give. Dated so that the first installment is late.
        invoice = self._invoice(
            1000.0, date="2025-12-01", invoice_payment_term_id=self.term.id
        )
        plan = invoice.installment_plan_id
        self.assertLines(
            plan,
            [
                ("2025-12-15", 333.33, "late"),
                ("2026-01-15", 333.33, "pending"),
                ("2026-02-15", 333.34, "pending"),
            ],
        )
        self.assertEqual(plan.amount_late, 333.33)
        written = (self._stored(plan), self._stored(plan.line_ids))
        for records in (plan, plan.line_ids):
            for field in records._fields.values():
                if field.store and field.compute and field.column_type:
                    self.env.add_to_compute(field, records)
        self.assertEqual((self._stored(plan), self._stored(plan.line_ids)), written)
        # Every stored computation is written: one left out would make the
        # ORM run its compute method, and the others computed with it, over
        # every plan posted (a new plan total once cost posting 10%).
        plan_vals, line_vals_list = invoice._installment_plan_vals(
            [(plan.line_ids[0].due_date, invoice.amount_residual)], fresh=True
        )
        for model, vals in (
            ("installment.plan", plan_vals),
            ("installment.plan.line", line_vals_list[0]),
        ):
            computed = {
                name
                for name, field in self.env[model]._fields.items()
                if field.store and field.compute and field.column_type
            }
            self.assertLessEqual(computed, set(vals), model)
        # Later settlements are computed as usual.
        self._pay(invoice, 400.0)
        self.assertLines(
            plan,
            [
                ("2025-12-15", 333.33, "paid"),
                ("2026-01-15", 333.33, "partial"),
                ("2026-02-15", 333.34, "pending"),
            ],
        )
        self.assertEqual((plan.amount_paid, plan.amount_late), (400.0, 0.0))

    def test_multi_currency_split(self):
        currency = self.setup_other_currency("EUR", rates=[("2020-01-01", 3.0)])
        invoice = self._invoice(
            100.0,
            date="2026-03-10",
            currency=currency,
            invoice_payment_term_id=self.term.id,
        )
        terms = invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        ).sorted("date_maturity")
        self.assertEqual(terms.mapped("amount_currency"), [33.33, 33.33, 33.34])
        self.assertEqual(terms.mapped("balance"), [11.11, 11.11, 11.11])
        self.assertAlmostEqual(
            sum(terms.mapped("balance")), invoice.amount_total_signed
        )
        self.assertEqual(
            invoice.installment_plan_id.line_ids.mapped("amount"), [33.33, 33.33, 33.34]
        )

    def test_validation_messages(self):
        cases = [
            ({"installment_count": 0}, "between 1 and 360"),
            ({"installment_interval_number": 0}, "at least 1"),
            ({"installment_first_day_of_month": 32}, "between 1 and 31"),
            ({"installment_date_4": "2026-06-01"}, "fixed date for installment 4"),
            (
                {
                    "installment_date_2": "2026-06-01",
                    "installment_date_3": "2026-05-01",
                },
                "must be increasing",
            ),
        ]
        for vals, message in cases:
            with self.assertRaisesRegex(ValidationError, message):
                self.term.copy().write(vals)
        self.term.installment_date_2 = "2026-02-01"
        invoice = self._invoice(
            100.0, date="2026-03-10", post=False, invoice_payment_term_id=self.term.id
        )
        with self.assertRaisesRegex(UserError, "Day-15 installments.*03/10/2026"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(invoice.installment_plan_ids)

    def test_count_one_behaves_like_plain_term(self):
        single = self.env["account.payment.term"].create(
            {
                "name": "Single",
                "installment_enabled": True,
                "installment_count": 1,
                "installment_first_type": "after_days",
                "installment_first_days": 30,
            }
        )
        plain = self.env["account.payment.term"].create(
            {
                "name": "30 days",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100, "nb_days": 30}
                    )
                ],
            }
        )
        results = []
        for term in (single, plain):
            invoice = self._invoice(
                123.45, date="2026-03-10", invoice_payment_term_id=term.id
            )
            lines = invoice.line_ids.filtered(
                lambda line: line.display_type == "payment_term"
            )
            results.append(
                (
                    to_str(lines.mapped("date_maturity")),
                    lines.mapped("balance"),
                    invoice.invoice_date_due,
                )
            )
        self.assertEqual(results[0], results[1])

    def test_preview_and_wizard_defaults(self):
        form = Form(self.term)
        form.example_date = fields.Date.to_date("2026-03-20")
        self.assertIn("04/15/2026", form.example_preview)
        form.installment_first_day_of_month = 25
        self.assertIn("03/25/2026", form.example_preview)
        invoice = self._invoice(900.0, invoice_payment_term_id=self.term.id)
        invoice.installment_plan_id.action_cancel()
        defaults = invoice._installment_wizard_defaults()
        self.assertEqual(defaults["count"], 3)
        self.assertEqual(
            fields.Date.to_string(defaults["first_due_date"]), "2026-01-15"
        )
