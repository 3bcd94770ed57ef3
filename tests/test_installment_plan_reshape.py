"""Issue 18, points 5 and 6: every installment of an active plan can change.
Installments are added and unpaid ones deleted (the unpaid installments not
edited by hand absorb the difference, with the rule of amount edits), and a
due date moved past another installment's re-orders the schedule."""

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import InstallmentCommon


def to_str(dates):
    return [fields.Date.to_string(d) for d in dates]


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentPlanReshape(InstallmentCommon):
    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(1000.0)
        self.plan = self.invoice.create_installment_plan(
            count=4, first_due_date="2026-02-10"
        )
        self.lines = self.plan.line_ids.sorted()

    def schedule(self):
        return [
            (fields.Date.to_string(line.due_date), line.amount)
            for line in self.plan.line_ids.sorted()
        ]

    # -- point 6: re-ordering ------------------------------------------------

    def test_moving_past_the_next_reorders(self):
        moved = self.lines[1]
        moved.due_date = "2026-04-20"
        self.assertEqual(
            self.schedule(),
            [
                ("2026-02-10", 250.0),
                ("2026-04-10", 250.0),
                ("2026-04-20", 250.0),
                ("2026-05-10", 250.0),
            ],
        )
        self.assertEqual(self.plan.line_ids.sorted()[2], moved)
        self.assertEqual(moved._get_position(), 3)
        self.assertIn("position", self.plan.message_ids[0].body)
        # Moved before every other one: first.
        last = self.plan.line_ids.sorted()[3]
        last.due_date = "2026-01-20"
        self.assertEqual(self.plan.line_ids.sorted()[0], last)
        self.assertEqual(
            to_str(self.plan.line_ids.sorted().mapped("due_date")),
            ["2026-01-20", "2026-02-10", "2026-04-10", "2026-04-20"],
        )
        self.assertEqual(self.plan.next_due_date, fields.Date.to_date("2026-01-20"))
        self.assertEqual(
            self.invoice.invoice_date_due, fields.Date.to_date("2026-04-20")
        )

    def test_amount_edit_after_reordering_rebalances_in_the_new_order(self):
        self.plan.write(
            {
                "line_ids": [
                    Command.update(
                        self.lines[0].id, {"due_date": "2026-04-15", "amount": 100.0}
                    )
                ]
            }
        )
        # Now third: only the one after it (05-10) absorbs the 150.
        self.assertEqual(
            self.schedule(),
            [
                ("2026-03-10", 250.0),
                ("2026-04-10", 250.0),
                ("2026-04-15", 100.0),
                ("2026-05-10", 400.0),
            ],
        )

    def test_a_refused_amount_undoes_the_new_order(self):
        before = self.schedule()
        with self.assertRaisesRegex(UserError, "each must stay positive"):
            self.lines[0].write({"due_date": "2026-04-15", "amount": 900.0})
        self.assertEqual(self.schedule(), before)
        self.assertEqual(self.plan.line_ids.sorted()[0], self.lines[0])

    def test_an_installment_paid_stays_in_place(self):
        self._pay(self.invoice, 250.0)
        self.assertEqual(self.lines[0].state, "paid")
        with self.assertRaisesRegex(UserError, "already been paid or credited"):
            self.lines[2].due_date = "2026-02-01"
        self.assertEqual(self.lines[2].due_date, fields.Date.to_date("2026-04-10"))
        # The paid one's day is fine: it stays after it.
        self.lines[2].due_date = "2026-02-10"
        self.assertEqual(self.plan.line_ids.sorted()[:2], self.lines[0] | self.lines[2])
        self.assertEqual(self.lines[0].state, "paid")
        self.assertEqual(self.lines[2].amount_paid, 0.0)

    def test_term_maturities_follow_the_new_order(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "Three months",
                "installment_enabled": True,
                "installment_count": 3,
                "installment_first_type": "after_days",
                "installment_first_days": 30,
            }
        )
        invoice = self._invoice(900.0, invoice_payment_term_id=term.id)
        plan = invoice.installment_plan_id
        first = plan.line_ids.sorted()[0]
        first.due_date = "2026-04-01"  # past the 2nd (03-09)
        dates = to_str(plan.line_ids.sorted().mapped("due_date"))
        self.assertEqual(dates, sorted(dates))
        terms = invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        )
        self.assertEqual(dates, ["2026-03-09", "2026-04-01", "2026-04-09"])
        self.assertEqual(sorted(to_str(terms.mapped("date_maturity"))), dates)

    # -- point 5: add and delete ---------------------------------------------

    def test_add_with_an_amount(self):
        new = self.plan.add_installment("2026-06-10", 100.0)
        self.assertTrue(new.is_manual)
        self.assertEqual(
            self.schedule(),
            [
                ("2026-02-10", 225.0),
                ("2026-03-10", 225.0),
                ("2026-04-10", 225.0),
                ("2026-05-10", 225.0),
                ("2026-06-10", 100.0),
            ],
        )
        self.assertEqual(self.plan.installment_count, 5)
        self.assertIn("added", self.plan.message_ids[0].body)
        self.assertEqual(
            self.invoice.invoice_date_due, fields.Date.to_date("2026-06-10")
        )

    def test_add_without_an_amount_takes_an_even_share(self):
        new = self.plan.add_installment(fields.Date.to_date("2026-03-20"))
        self.assertFalse(new.is_manual)
        self.assertEqual(new._get_position(), 3)
        self.assertEqual([amount for _d, amount in self.schedule()], [200.0] * 5)

    def test_add_and_delete_from_the_plan_form(self):
        """What the plan form's editable list saves: a new row with a date
        (amount 0: an even share), then the row deleted."""
        self.plan.write(
            {"line_ids": [Command.create({"due_date": "2026-06-10", "amount": 0.0})]}
        )
        self.assertEqual(len(self.plan.line_ids), 5)
        self.assertEqual([amount for _d, amount in self.schedule()], [200.0] * 5)
        added = self.plan.line_ids.sorted()[4]
        self.assertFalse(added.is_manual)
        self.plan.write({"line_ids": [Command.delete(added.id)]})
        self.assertEqual([amount for _d, amount in self.schedule()], [250.0] * 4)
        # A row carrying anything else is still refused.
        with self.assertRaisesRegex(UserError, "made with their plan"):
            self.plan.write(
                {
                    "line_ids": [
                        Command.create(
                            {"due_date": "2026-06-10", "amount": 1.0, "state": "paid"}
                        )
                    ]
                }
            )

    def test_delete_an_unpaid_installment(self):
        self.lines[1].unlink()
        self.assertEqual(
            self.schedule(),
            [("2026-02-10", 333.33), ("2026-04-10", 333.33), ("2026-05-10", 333.34)],
        )
        self.assertIn("removed", self.plan.message_ids[0].body)
        self.plan.write({"line_ids": [Command.delete(self.lines[3].id)]})
        self.assertEqual(
            self.schedule(), [("2026-02-10", 500.0), ("2026-04-10", 500.0)]
        )
        self.assertEqual(
            self.invoice.invoice_date_due, fields.Date.to_date("2026-04-10")
        )

    def test_refused_when_nothing_can_absorb(self):
        self._pay(self.invoice, 250.0)
        self.lines[1].amount = 300.0  # by hand: 3rd and 4th take 225 each
        self.lines[2].amount = 200.0  # by hand: the 4th takes 250
        before = self.schedule()
        with self.assertRaisesRegex(UserError, "No installment can absorb"):
            self.lines[3].unlink()
        with self.assertRaisesRegex(UserError, "already been paid"):
            self.lines[0].unlink()
        self.lines[3].is_manual = True
        with self.assertRaisesRegex(UserError, "No installment of .* can give"):
            self.plan.add_installment("2026-06-10")
        with self.assertRaisesRegex(UserError, "No installment can absorb"):
            self.plan.add_installment("2026-06-10", 50.0)
        self.lines[3].is_manual = False
        with self.assertRaisesRegex(UserError, "before installment 1"):
            self.plan.add_installment("2026-02-01", 10.0)
        self.assertEqual(self.schedule(), before, "nothing written")
        self.assertEqual(len(self.plan.line_ids), 4)

    def test_only_active_plans_and_every_user_path(self):
        user = new_test_user(
            self.env, login="reshaping_clerk", groups="account.group_account_invoice"
        )
        self.assertTrue(user.has_group("installment_credit.group_installment_user"))
        plan = self.plan.with_user(user)
        new = plan.add_installment("2026-06-10", 200.0)
        self.assertEqual(len(self.plan.line_ids), 5)
        new.with_user(user).unlink()
        self.assertEqual([amount for _d, amount in self.schedule()], [250.0] * 4)
        self.plan.action_cancel()
        with self.assertRaisesRegex(UserError, "only be added to or removed"):
            plan.add_installment("2026-06-10", 200.0)
        with self.assertRaisesRegex(UserError, "only be added to or removed"):
            self.lines[1].with_user(user).unlink()
