"""The plan's money rules hold on every path, not only in the wizard: what an
installment user could do over RPC (create, write, unlink on what their
access rights allow, with any context) cannot break them."""

from contextlib import contextmanager
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentPlanGuards(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # An invoicing clerk: installment user, not manager.
        cls.clerk = new_test_user(
            cls.env,
            login="plan_guard_clerk",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="plan_guard_manager",
            groups="account.group_account_invoice,"
            "installment_credit.group_installment_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(900.0)
        self.plan = self.invoice.create_installment_plan(
            count=3, first_due_date="2026-02-10"
        )
        self.lines = self.plan.line_ids.sorted()
        self.other_invoice = self._invoice(300.0, partner=self.partner_b)
        self.other_plan = self.other_invoice.create_installment_plan(
            count=1, first_due_date="2026-02-10"
        )

    @contextmanager
    def assertRefused(self, exception, regex):
        """``assertRaisesRegex`` in a savepoint (as Odoo's ``assertRaises``):
        what a refused call wrote before raising is rolled back, as the
        request's transaction would be."""
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertRegex(catcher.exception.args[0], regex)

    def _snapshot(self):
        plans = self.plan | self.other_plan
        plans.invalidate_recordset()
        return [
            (
                plan.move_id,
                plan.partner_id,
                plan.amount_total,
                plan.state,
                [
                    (line.due_date, line.amount, line.partner_id)
                    for line in plan.line_ids
                ],
            )
            for plan in plans
        ]

    # ------------------------------------------------------------------
    # Point 5: the model enforces what the wizard enforces
    # ------------------------------------------------------------------

    def test_plan_cannot_be_created_directly(self):
        bill = self.init_invoice("in_invoice", amounts=[100.0], post=True)
        draft = self._invoice(100.0, post=False)
        posted = self._invoice(100.0)
        for env in (self.env(user=self.clerk), self.env(user=self.manager), self.env):
            for move, total in ((bill, 100.0), (draft, 100.0), (posted, 5000.0)):
                with self.assertRefused(UserError, "create_installment_plan"):
                    env["installment.plan"].create(
                        {
                            "move_id": move.id,
                            "amount_total": total,
                            "line_ids": [
                                Command.create(
                                    {"due_date": "2026-02-10", "amount": total}
                                )
                            ],
                        }
                    )
        self.assertFalse((bill | draft | posted).installment_plan_ids)

    def test_private_service_still_checks_the_invoice(self):
        """Even the private path that builds a plan (no wizard checks) cannot
        make one on a vendor bill, a draft invoice, or with a wrong total."""
        bill = self.init_invoice("in_invoice", amounts=[100.0], post=True)
        draft = self._invoice(100.0, post=False)
        refund = self.init_invoice("out_refund", amounts=[100.0], post=True)
        for move in (bill, refund):
            with self.assertRefused(ValidationError, "customer invoice"):
                move._installment_create_plan([(date(2026, 2, 10), 100.0)])
        with self.assertRefused(ValidationError, "posted"):
            draft._installment_create_plan([(date(2026, 2, 10), 100.0)])
        posted = self._invoice(100.0)
        with self.assertRefused(ValidationError, "add up to"):
            posted._installment_create_plan([(date(2026, 2, 10), 50.0)])
        with self.assertRefused(ValidationError, "positive"):
            posted._installment_create_plan(
                [(date(2026, 2, 10), 150.0), (date(2026, 3, 10), -50.0)]
            )
        with self.assertRefused(ValidationError, "already has an active"):
            self.invoice._installment_create_plan([(date(2026, 2, 10), 900.0)])
        self.assertFalse((bill | draft | refund | posted).installment_plan_ids)
        self.assertEqual(len(self.invoice.installment_plan_ids), 1)

    def test_plan_protected_fields(self):
        before = self._snapshot()
        plan = self.plan.with_user(self.clerk)
        values = {
            "move_id": self.other_invoice.id,
            "partner_id": self.partner_b.id,
            "company_id": self.company.id,
            "currency_id": self.env.ref("base.EUR").id,
            "amount_total": 1.0,
            "credit_note_base": 100.0,
            "cancelled": True,
            "state": "paid",
            "amount_late": 0.0,
        }
        for name, value in values.items():
            with self.assertRefused(UserError, name):
                plan.write({name: value})
        # Not even a manager, nor with any context an RPC call can carry.
        with self.assertRefused(UserError, "amount_total"):
            self.plan.with_user(self.manager).with_context(
                installment_plan_service=True, installment_rebalancing=True
            ).write({"amount_total": 1.0})
        self.assertEqual(self._snapshot(), before)

    def test_cancelled_plan_cannot_be_revived(self):
        self.plan.action_cancel()
        self.assertEqual(self.plan.state, "cancelled")
        for vals in ({"cancelled": False}, {"state": "active"}):
            with self.assertRaises(UserError):
                self.plan.with_user(self.clerk).write(vals)
        self.assertEqual(self.plan.state, "cancelled")
        # The way back is a new plan.
        new_plan = self.invoice.with_user(self.clerk).create_installment_plan(
            count=2, first_due_date="2026-02-10"
        )
        self.assertEqual(self.invoice.installment_plan_id, new_plan)

    def test_installment_cannot_move_to_another_plan(self):
        before = self._snapshot()
        line = self.other_plan.line_ids.with_user(self.clerk)
        for name, value in (
            ("plan_id", self.plan.id),
            ("move_id", self.invoice.id),
            ("partner_id", self.partner_a.id),
            ("state", "paid"),
            ("amount_paid", 300.0),
            ("sequence", 99),
        ):
            with self.assertRefused(UserError, name):
                line.write({name: value})
        # Linking it through the other plan's one2many is the same write.
        with self.assertRefused(UserError, "plan_id"):
            self.plan.with_user(self.clerk).write(
                {"line_ids": [Command.link(self.other_plan.line_ids.id)]}
            )
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self.other_plan.line_ids.partner_id, self.partner_b)

    def test_installments_cannot_be_created_or_deleted(self):
        # Issue 18, point 5: adding an installment and deleting an unpaid one
        # are allowed now, through the plan service (installment.plan
        # .add_installment, tested in test_installment_plan_reshape.py); a
        # create carrying anything else, a negative amount or a deletion that
        # nothing can absorb are still refused.
        before = self._snapshot()
        with self.assertRefused(UserError, "create_installment_plan"):
            self.env["installment.plan.line"].with_user(self.clerk).create(
                {
                    "plan_id": self.plan.id,
                    "due_date": "2026-06-10",
                    "amount": 10.0,
                    "amount_paid": 10.0,
                }
            )
        with self.assertRefused(UserError, "must be positive"):
            self.plan.with_user(self.clerk).write(
                {
                    "line_ids": [
                        Command.create({"due_date": "2026-06-10", "amount": -10.0})
                    ]
                }
            )
        # Managers have the unlink right, still not on every installment.
        with self.assertRaises(UserError):
            self.plan.line_ids.with_user(self.manager).unlink()
        with self.assertRaises(UserError):
            self.plan.with_user(self.manager).write(
                {"line_ids": [Command.delete(line.id) for line in self.lines]}
            )
        # Nor the plan with its installments, even cancelled: it is history.
        self.other_plan.action_cancel()
        with self.assertRefused(UserError, "history"):
            self.other_plan.with_user(self.manager).unlink()
        self.assertEqual(self._snapshot()[0], before[0])
        self.assertEqual(len(self.other_plan.line_ids), 1)

    def test_raw_installment_writes_keep_the_invariants(self):
        """The context keys of the rebalancing are no way around the rules: a
        write that skips the rebalancing still meets every invariant."""
        forged = self.lines.with_user(self.clerk).with_context(
            installment_rebalancing=True, installment_skip_sum_check=True
        )
        with self.assertRaises(ValidationError):
            forged[0].amount = -300.0
        with self.assertRaises(ValidationError):
            forged[0].amount = 1.0
        with self.assertRaises(ValidationError):
            forged[1].due_date = "2026-05-01"  # after the third installment
        self.assertEqual(self.lines.mapped("amount"), [300.0, 300.0, 300.0])
        self.assertEqual(
            [fields.Date.to_string(d) for d in self.lines.mapped("due_date")],
            ["2026-02-10", "2026-03-10", "2026-04-10"],
        )
        # A paid installment stays as it is, raw or not.
        self._pay(self.invoice, 300.0)
        with self.assertRaises(UserError):
            forged[0].due_date = "2026-02-01"

    def test_due_date_before_invoice_date_needs_a_manager(self):
        invoice = self._invoice(200.0, date="2026-01-10")
        with self.assertRefused(ValidationError, "before the invoice date"):
            invoice.with_user(self.clerk).create_installment_plan(
                count=2, first_due_date="2026-01-05"
            )
        with self.assertRefused(ValidationError, "before the invoice date"):
            invoice.with_user(self.clerk).create_installment_plan(
                lines=[("2026-01-09", 100.0), ("2026-02-10", 100.0)]
            )
        self.assertFalse(invoice.installment_plan_ids)
        # On the invoice date itself is fine.
        plan = invoice.with_user(self.clerk).create_installment_plan(
            count=2, first_due_date="2026-01-10"
        )
        line = plan.line_ids.sorted()[0]
        with self.assertRefused(ValidationError, "before the invoice date"):
            line.with_user(self.clerk).due_date = "2026-01-09"
        self.assertEqual(line.due_date, date(2026, 1, 10))
        # A manager says so.
        line.with_user(self.manager).due_date = "2026-01-09"
        self.assertEqual(line.due_date, date(2026, 1, 9))
        other = self._invoice(200.0, date="2026-01-10")
        backdated = other.with_user(self.manager).create_installment_plan(
            count=2, first_due_date="2026-01-05"
        )
        self.assertEqual(backdated.line_ids.sorted()[0].due_date, date(2026, 1, 5))

    # ------------------------------------------------------------------
    # Point 6: manual schedules are capped like generated ones
    # ------------------------------------------------------------------

    def test_manual_lines_capped(self):
        # Imported here, not at collection: importing the add-on before Odoo
        # loads it registers its controllers out of order.
        from odoo.addons.installment_credit.tools import schedule

        cap = schedule.MAX_INSTALLMENTS
        invoice = self._invoice(float(cap + 1))
        first = date(2026, 2, 1)
        too_many = [(first + timedelta(days=i), 1.0) for i in range(cap + 1)]
        with self.assertRefused(UserError, "at most %s installments" % cap):
            invoice.create_installment_plan(lines=too_many)
        self.assertFalse(invoice.installment_plan_ids)
        at_cap = [(first + timedelta(days=i), 1.0) for i in range(cap - 1)]
        at_cap.append((first + timedelta(days=cap), 2.0))
        plan = invoice.create_installment_plan(lines=at_cap)
        self.assertEqual(plan.installment_count, cap)
