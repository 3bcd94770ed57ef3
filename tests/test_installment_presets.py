"""Issue 18, points 7-10: amount and number together, a fixed first date and
a weekday on payment terms, the modified-following working-day convention
and previews that mark moved dates."""

from datetime import date

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import InstallmentCommon


def to_str(dates):
    return [fields.Date.to_string(d) for d in dates]


@tagged("post_install", "-at_install")
class TestScheduleConventions(InstallmentCommon):
    """The engine: modified following, weekly on a weekday."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from odoo.addons.installment_credit.tools import schedule

        cls.schedule = schedule

    def test_modified_following(self):
        def weekdays(day):
            return day.weekday() < 5

        shift = self.schedule.shift_to_working_day
        # Sat 2027-01-30: Monday is in February, so back to Friday 01/29.
        self.assertEqual(
            shift(date(2027, 1, 30), "modified_following", weekdays), date(2027, 1, 29)
        )
        # Sat 2026-08-15: Monday 08/17 is in the same month.
        self.assertEqual(
            shift(date(2026, 8, 15), "modified_following", weekdays), date(2026, 8, 17)
        )
        dates = self.schedule.generate_dates(date(2026, 12, 30), 4)
        self.assertEqual(
            to_str(self.schedule.shift_dates(dates, "modified_following", weekdays)),
            ["2026-12-30", "2027-01-29", "2027-02-26", "2027-03-30"],
        )
        self.assertEqual(
            to_str(self.schedule.shift_dates(dates, "next", weekdays)),
            ["2026-12-30", "2027-02-01", "2027-03-01", "2027-03-30"],
        )

    def test_weekly_on_a_weekday(self):
        # From Friday 2026-01-09, weekly on Monday: 01/12, 01/19; every two
        # weeks: the first Monday after one week, 01/19, then 02/02.
        recurring = self.schedule.recurring_dates
        self.assertEqual(
            to_str(recurring(date(2026, 1, 9), 3, 1, "week", None, "weekday", 0)),
            ["2026-01-09", "2026-01-12", "2026-01-19"],
        )
        self.assertEqual(
            to_str(recurring(date(2026, 1, 9), 3, 2, "week", None, "weekday", 0)),
            ["2026-01-09", "2026-01-19", "2026-02-02"],
        )
        # Already on the weekday: exactly the interval.
        self.assertEqual(
            to_str(recurring(date(2026, 1, 12), 2, 2, "week", None, "weekday", 0)),
            ["2026-01-12", "2026-01-26"],
        )


@tagged("post_install", "-at_install")
@freeze_time("2026-12-01")
class TestModifiedFollowing(InstallmentCommon):
    def test_default_for_new_companies(self):
        company = self.env["res.company"].create({"name": "Modified Following Co"})
        self.assertEqual(company.installment_working_day_policy, "modified_following")

    def test_plan_from_december_30(self):
        """The issue's example: one date per month, none moved to the next."""
        expected = {
            "next": ["2026-12-30", "2027-02-01", "2027-03-01", "2027-03-30"],
            "modified_following": [
                "2026-12-30",
                "2027-01-29",
                "2027-02-26",
                "2027-03-30",
            ],
        }
        for policy, dates in expected.items():
            self.company.installment_working_day_policy = policy
            invoice = self._invoice(400.0, date="2026-12-01")
            plan = invoice.create_installment_plan(count=4, first_due_date="2026-12-30")
            self.assertEqual(
                to_str(plan.line_ids.sorted().mapped("due_date")), dates, policy
            )

    def test_wizard_preview_marks_moved_dates(self):
        self.company.installment_working_day_policy = "modified_following"
        invoice = self._invoice(300.0, date="2026-12-01")
        wizard = Form(
            self.env["installment.plan.create"].with_context(default_move_id=invoice.id)
        )
        wizard.count = 3
        wizard.first_due_date = fields.Date.to_date("2026-12-30")
        html = wizard.preview_html
        self.assertIn("01/29/2027", html)
        self.assertIn("moved from 01/30/2027", html)
        self.assertIn("moved from 02/28/2027", html)
        self.assertEqual(html.count("moved from"), 2, "12/30 was not moved")
        self.company.installment_working_day_policy = "keep"
        wizard.count = 2  # recompute
        self.assertNotIn("moved from", wizard.preview_html)

    def test_term_preview_marks_moved_dates(self):
        self.company.installment_working_day_policy = "modified_following"
        term = self.env["account.payment.term"].create(
            {
                "name": "Monthly from the 30th",
                "installment_enabled": True,
                "installment_count": 3,
                "installment_first_type": "day_of_month",
                "installment_first_day_of_month": 30,
            }
        )
        form = Form(term)
        form.example_date = fields.Date.to_date("2026-12-10")
        self.assertIn("12/30/2026", form.example_preview)
        self.assertIn("01/29/2027", form.example_preview)
        self.assertIn("moved from 01/30/2027", form.example_preview)
        self.assertIn("moved from 02/28/2027", form.example_preview)


@tagged("post_install", "-at_install")
@freeze_time("2026-01-05")
class TestPaymentTermPresets(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term = cls.env["account.payment.term"].create(
            {
                "name": "Fixed start",
                "installment_enabled": True,
                "installment_count": 3,
                "installment_first_type": "fixed_date",
                "installment_date_1": "2026-02-20",
                "installment_interval_unit": "month",
            }
        )

    def test_first_installment_on_a_fixed_date(self):
        self.assertEqual(
            to_str(self.term._installment_dates(date(2026, 1, 10), self.company)),
            ["2026-02-20", "2026-03-20", "2026-04-20"],
        )
        self.term.installment_date_3 = "2026-05-01"
        invoice = self._invoice(900.0, invoice_payment_term_id=self.term.id)
        self.assertLines(
            invoice.installment_plan_id,
            [("2026-02-20", 300.0), ("2026-03-20", 300.0), ("2026-05-01", 300.0)],
        )
        self.assertEqual(
            invoice._installment_wizard_defaults()["first_due_date"],
            date(2026, 2, 20),
        )

    def test_fixed_first_date_validation_and_staleness(self):
        with self.assertRaisesRegex(ValidationError, "set the date of the 1st"):
            self.term.copy().write({"installment_date_1": False})
        with self.assertRaisesRegex(ValidationError, "1st before 2nd"):
            self.term.copy().write({"installment_date_2": "2026-02-01"})
        # An invoice dated after the fixed first date is refused at posting,
        # naming the term and the dates; nothing is posted.
        invoice = self._invoice(
            100.0, date="2026-03-10", post=False, invoice_payment_term_id=self.term.id
        )
        with self.assertRaisesRegex(
            UserError, "Fixed start.*03/10/2026.*fixed on 02/20/2026"
        ):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        # The same date as the invoice is fine.
        same_day = self._invoice(
            100.0, date="2026-02-20", invoice_payment_term_id=self.term.id
        )
        self.assertEqual(same_day.installment_plan_id.line_ids[:1].due_date.day, 20)

    def test_weekly_recurrence_on_a_weekday(self):
        self.term.write(
            {
                "installment_first_type": "invoice_date",
                "installment_interval_unit": "week",
                "installment_day_mode": "weekday",
                "installment_recurring_weekday": "0",
            }
        )
        # Friday 2026-01-09, then Mondays.
        self.assertEqual(
            to_str(self.term._installment_dates(date(2026, 1, 9), self.company)),
            ["2026-01-09", "2026-01-12", "2026-01-19"],
        )
        form = Form(self.term)
        form.example_date = fields.Date.to_date("2026-01-09")
        self.assertIn("01/19/2026", form.example_preview)

    def test_recurring_day_must_fit_the_unit(self):
        with self.assertRaisesRegex(ValidationError, "recurrences in weeks only"):
            self.term.copy().write({"installment_day_mode": "weekday"})
        with self.assertRaisesRegex(ValidationError, "recurrences in months only"):
            self.term.copy().write(
                {
                    "installment_interval_unit": "week",
                    "installment_day_mode": "day_of_month",
                }
            )


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestAmountAndCount(InstallmentCommon):
    def test_matching_amount_and_count(self):
        invoice = self._invoice(900.0)
        plan = invoice.create_installment_plan(
            count=3, installment_amount=300.0, first_due_date="2026-02-10"
        )
        self.assertLines(
            plan, [("2026-02-10", 300.0), ("2026-03-10", 300.0), ("2026-04-10", 300.0)]
        )

    def test_difference_refused_unless_last_takes_it(self):
        invoice = self._invoice(1000.0)
        kwargs = {
            "count": 3,
            "installment_amount": 300.0,
            "first_due_date": "2026-02-10",
        }
        with self.assertRaisesRegex(
            UserError, r"leave \D*100\.00 .*unscheduled.*it would be \D*400\.00"
        ):
            invoice.create_installment_plan(**kwargs)
        with self.assertRaisesRegex(UserError, r"are \D*50\.00 more than what is due"):
            invoice.create_installment_plan(**{**kwargs, "installment_amount": 350.0})
        with self.assertRaisesRegex(UserError, "Unknown remainder"):
            invoice.create_installment_plan(**kwargs, remainder="first")
        # The last one cannot give back more than it has.
        with self.assertRaisesRegex(UserError, "more than the last installment"):
            invoice.create_installment_plan(
                count=3,
                installment_amount=600.0,
                first_due_date="2026-02-10",
                remainder="last",
            )
        self.assertFalse(invoice.installment_plan_ids, "nothing written")
        plan = invoice.create_installment_plan(**kwargs, remainder="last")
        self.assertLines(
            plan, [("2026-02-10", 300.0), ("2026-03-10", 300.0), ("2026-04-10", 400.0)]
        )
        plan.action_cancel()
        plan = invoice.create_installment_plan(
            **{**kwargs, "installment_amount": 350.0}, remainder="last"
        )
        self.assertEqual(plan.line_ids.sorted().mapped("amount"), [350.0, 350.0, 300.0])

    def test_wizard_shows_the_difference_and_lets_the_last_take_it(self):
        invoice = self._invoice(1000.0)
        form = Form(
            self.env["installment.plan.create"].with_context(default_move_id=invoice.id)
        )
        form.mode = "count_amount"
        form.count = 3
        form.installment_amount = 300.0
        form.first_due_date = fields.Date.to_date("2026-02-10")
        self.assertEqual(form.amount_difference, 100.0)
        self.assertIn("100.00", form.preview_error)
        self.assertFalse(form.preview_html)
        form.remainder_last = True
        self.assertFalse(form.preview_error)
        self.assertIn("400.00", form.preview_html)
        plan = self.env["installment.plan"].browse(
            form.save().action_confirm()["res_id"]
        )
        self.assertEqual(plan.line_ids.sorted().mapped("amount"), [300.0, 300.0, 400.0])

    def test_wizard_correcting_the_inputs(self):
        invoice = self._invoice(1000.0)
        form = Form(
            self.env["installment.plan.create"].with_context(default_move_id=invoice.id)
        )
        form.mode = "count_amount"
        form.count = 4
        form.installment_amount = 250.0
        form.first_due_date = fields.Date.to_date("2026-02-10")
        self.assertEqual(form.amount_difference, 0.0)
        self.assertFalse(form.preview_error)
        wizard = form.save()
        plan = self.env["installment.plan"].browse(wizard.action_confirm()["res_id"])
        self.assertEqual(plan.line_ids.mapped("amount"), [250.0] * 4)
