from datetime import datetime

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentPlanCreate(InstallmentCommon):
    def test_even_split_with_remainder(self):
        invoice = self._invoice(1000.0)
        plan = invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        self.assertLines(
            plan,
            [
                ("2026-02-10", 333.33, "pending"),
                ("2026-03-10", 333.33, "pending"),
                ("2026-04-10", 333.34, "pending"),
            ],
        )
        self.assertEqual(plan.amount_total, 1000.0)
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.partner_id, self.partner_a)
        self.assertEqual(plan.next_due_date, fields.Date.to_date("2026-02-10"))
        self.assertEqual(plan.next_due_amount, 333.33)
        self.assertEqual(invoice.installment_plan_id, plan)

    def test_even_split_zero_and_three_decimal_currencies(self):
        for rounding, expected in (
            (1.0, [14.0] * 6 + [16.0]),
            (0.001, [14.286] * 6 + [14.284]),
        ):
            currency = self.env["res.currency"].create(
                {
                    "name": "X%s" % int(rounding * 1000),
                    "symbol": "X",
                    "rounding": rounding,
                    "rate_ids": [Command.create({"name": "2020-01-01", "rate": 1.0})],
                }
            )
            invoice = self._invoice(100.0, currency=currency)
            plan = invoice.create_installment_plan(count=7, first_due_date="2026-02-01")
            self.assertEqual(
                plan.line_ids.sorted("sequence").mapped("amount"), expected
            )
            self.assertAlmostEqual(sum(plan.line_ids.mapped("amount")), 100.0)

    def test_fixed_amount_mode(self):
        invoice = self._invoice(1000.0)
        plan = invoice.create_installment_plan(
            installment_amount=300.0,
            first_due_date="2026-01-15",
            interval_number=2,
            interval_unit="week",
        )
        self.assertLines(
            plan,
            [
                ("2026-01-15", 300.0),
                ("2026-01-29", 300.0),
                ("2026-02-12", 300.0),
                ("2026-02-26", 100.0),
            ],
        )

    def test_manual_mode(self):
        invoice = self._invoice(1000.0)
        plan = invoice.create_installment_plan(
            lines=[("2026-03-01", 600.0), ("2026-02-01", 400.0)]
        )
        self.assertLines(plan, [("2026-02-01", 400.0), ("2026-03-01", 600.0)])
        other = self._invoice(1000.0)
        with self.assertRaisesRegex(UserError, "remains to allocate"):
            other.create_installment_plan(
                lines=[("2026-02-01", 400.0), ("2026-03-01", 500.0)]
            )
        self.assertFalse(other.installment_plan_ids)
        # lines and a generated mode's arguments together: refused, not one
        # of them silently ignored
        lines = [("2026-02-01", 400.0), ("2026-03-01", 600.0)]
        for extra in (
            {"count": 4},
            {"installment_amount": 250.0},
            {"first_due_date": "2026-02-01"},
            {"remainder": "last"},
        ):
            with (
                self.subTest(**extra),
                self.assertRaisesRegex(UserError, f"leave out {next(iter(extra))}"),
            ):
                other.create_installment_plan(lines=lines, **extra)
        self.assertFalse(other.installment_plan_ids)

    def test_month_end_anchoring_and_daily(self):
        invoice = self._invoice(400.0)
        plan = invoice.create_installment_plan(count=4, first_due_date="2028-01-31")
        self.assertLines(
            plan,
            [
                ("2028-01-31", 100.0),
                ("2028-02-29", 100.0),
                ("2028-03-31", 100.0),
                ("2028-04-30", 100.0),
            ],
        )
        daily = self._invoice(300.0).create_installment_plan(
            count=3, first_due_date="2026-01-30", interval_unit="day"
        )
        self.assertLines(
            daily, [("2026-01-30", 100.0), ("2026-01-31", 100.0), ("2026-02-01", 100.0)]
        )

    def test_working_day_policies(self):
        calendar = self.company.resource_calendar_id
        # 2026-05-01 is a Friday made a public holiday; 2026-05-02 is a Saturday.
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Labour Day",
                "calendar_id": calendar.id,
                "company_id": self.company.id,
                "date_from": datetime(2026, 5, 1, 0, 0),
                "date_to": datetime(2026, 5, 1, 23, 0),
            }
        )
        expected = {
            "keep": ["2026-05-01", "2026-05-02"],
            "next": ["2026-05-04", "2026-05-04"],
            "previous": ["2026-04-30", "2026-04-30"],
        }
        for policy, dates in expected.items():
            self.company.installment_working_day_policy = policy
            invoice = self._invoice(200.0)
            plan = invoice.create_installment_plan(
                count=2, first_due_date="2026-05-01", interval_unit="day"
            )
            self.assertEqual(
                [fields.Date.to_string(d) for d in plan.line_ids.mapped("due_date")],
                dates,
                policy,
            )

    def test_bad_input_is_refused_and_nothing_written(self):
        invoice = self._invoice(1000.0)
        cases = [
            ({"count": 0, "first_due_date": "2026-02-01"}, "between 1 and 360"),
            ({"count": 361, "first_due_date": "2026-02-01"}, "between 1 and 360"),
            (
                {"count": 3, "first_due_date": "2026-02-01", "interval_number": 0},
                "at least 1",
            ),
            ({"installment_amount": -5, "first_due_date": "2026-02-01"}, "positive"),
            (
                {"installment_amount": 5000, "first_due_date": "2026-02-01"},
                "above what is due",
            ),
            ({"count": 3}, "first due date"),
        ]
        for kwargs, message in cases:
            with self.assertRaisesRegex(UserError, message):
                invoice.create_installment_plan(**kwargs)
        self.assertFalse(invoice.installment_plan_ids)

        draft = self._invoice(100.0, post=False)
        with self.assertRaisesRegex(UserError, "Post"):
            draft.create_installment_plan(count=2, first_due_date="2026-02-01")
        bill = self.init_invoice("in_invoice", amounts=[100.0], post=True)
        with self.assertRaisesRegex(UserError, "not a customer invoice"):
            bill.create_installment_plan(count=2, first_due_date="2026-02-01")
        paid = self._invoice(100.0)
        self._pay(paid, 100.0)
        with self.assertRaisesRegex(UserError, "fully paid"):
            paid.create_installment_plan(count=2, first_due_date="2026-02-01")
        invoice.create_installment_plan(count=2, first_due_date="2026-02-01")
        with self.assertRaisesRegex(UserError, "already has an installment plan"):
            invoice.create_installment_plan(count=2, first_due_date="2026-02-01")

    def test_plan_on_partially_paid_invoice_finances_residual(self):
        invoice = self._invoice(1000.0)
        self._pay(invoice, 400.0, date="2026-01-05")
        plan = invoice.create_installment_plan(count=2, first_due_date="2026-02-01")
        self.assertEqual(plan.amount_total, 600.0)
        self.assertEqual(plan.line_ids.mapped("amount"), [300.0, 300.0])
        self.assertEqual(plan.amount_paid, 0.0)
        self._pay(invoice, 300.0)
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "pending"])

    def test_invoice_report_prints_schedule(self):
        invoice = self._invoice(900.0)
        invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        html = html.decode()
        self.assertIn("installment_schedule", html)
        self.assertIn("02/10/2026", html)
        self.assertIn("04/10/2026", html)
        plain = self._invoice(100.0)
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", plain.ids
        )
        self.assertNotIn("installment_schedule", html.decode())

    def test_cancel_frees_invoice_and_keeps_history(self):
        invoice = self._invoice(100.0)
        plan = invoice.create_installment_plan(count=2, first_due_date="2026-02-01")
        plan.action_cancel()
        self.assertEqual(plan.state, "cancelled")
        new_plan = invoice.create_installment_plan(count=4, first_due_date="2026-02-01")
        self.assertEqual(invoice.installment_plan_id, new_plan)
        self.assertEqual(len(invoice.installment_plan_ids), 2)
        # Reset to draft cancels the active plan.
        invoice.button_draft()
        self.assertEqual(new_plan.state, "cancelled")

    def test_wizard_preview_and_manual_mode(self):
        invoice = self._invoice(1000.0)
        action = invoice.action_open_installment_wizard()
        wizard_form = Form(
            self.env[action["res_model"]].with_context(**action["context"])
        )
        wizard_form.count = 4
        wizard_form.first_due_date = fields.Date.to_date("2026-02-10")
        self.assertIn("05/10/2026", wizard_form.preview_html)
        self.assertIn("250.00", wizard_form.preview_html)
        wizard_form.mode = "manual"
        with wizard_form.line_ids.new() as line:
            line.due_date = fields.Date.to_date("2026-02-01")
            line.amount = 700.0
        self.assertEqual(wizard_form.amount_to_allocate, 300.0)
        wizard = wizard_form.save()
        with self.assertRaisesRegex(UserError, "still left to allocate"):
            wizard.action_confirm()
        wizard.line_ids = [Command.create({"due_date": "2026-03-01", "amount": 300.0})]
        action = wizard.action_confirm()
        plan = self.env["installment.plan"].browse(action["res_id"])
        self.assertLines(plan, [("2026-02-01", 700.0), ("2026-03-01", 300.0)])


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentPlanEdit(InstallmentCommon):
    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(1000.0)
        self.plan = self.invoice.create_installment_plan(
            count=4, first_due_date="2026-02-10"
        )
        self.lines = self.plan.line_ids.sorted("sequence")

    def test_edit_rebalances_later_installments(self):
        self.lines[1].amount = 400.0
        self.assertEqual(self.lines.mapped("amount"), [250.0, 400.0, 175.0, 175.0])
        self.assertTrue(self.lines[1].is_manual)
        # A second edit before it leaves the hand-edited one alone.
        self.lines[0].amount = 100.0
        self.assertEqual(self.lines.mapped("amount"), [100.0, 400.0, 250.0, 250.0])
        self.assertIn("rebalanced", self.plan.message_ids[0].body)

    def test_edit_through_plan_form_one2many(self):
        self.plan.write(
            {"line_ids": [Command.update(self.lines[1].id, {"amount": 100.0})]}
        )
        self.assertEqual(self.lines.mapped("amount"), [250.0, 100.0, 325.0, 325.0])

    def test_edit_refusals(self):
        with self.assertRaisesRegex(UserError, "No later installment"):
            self.lines[3].amount = 100.0
        with self.assertRaisesRegex(UserError, "each must stay positive"):
            self.lines[1].amount = 999.0
        with self.assertRaisesRegex(UserError, "must be positive"):
            self.lines[1].amount = 0.0
        self.assertEqual(self.lines.mapped("amount"), [250.0] * 4)
        # Moving past a neighbour re-orders the schedule (issue 18, point 6;
        # see test_installment_plan_reshape.py) instead of being refused.
        self.lines[2].due_date = "2026-04-20"
        self.assertEqual(fields.Date.to_string(self.lines[2].due_date), "2026-04-20")

    def test_paid_installment_cannot_be_edited(self):
        self._pay(self.invoice, 300.0)
        self.assertEqual(self.lines.mapped("state")[:2], ["paid", "partial"])
        with self.assertRaisesRegex(UserError, "already been paid"):
            self.lines[0].amount = 200.0
        with self.assertRaisesRegex(UserError, "already been paid"):
            self.lines[1].due_date = "2026-03-15"

    def test_sum_invariant_enforced(self):
        with self.assertRaises(ValidationError):
            self.lines[0].with_context(installment_rebalancing=True).amount = 1.0


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentPayments(InstallmentCommon):
    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(900.0)
        self.plan = self.invoice.create_installment_plan(
            count=3, first_due_date="2026-02-10"
        )
        self.lines = self.plan.line_ids.sorted("sequence")

    def test_partial_then_full_payment(self):
        self._pay(self.invoice, 450.0, date="2026-01-20")
        self.assertEqual(self.lines.mapped("state"), ["paid", "partial", "pending"])
        self.assertEqual(self.lines.mapped("amount_paid"), [300.0, 150.0, 0.0])
        self.assertEqual(self.lines[0].date_paid, fields.Date.to_date("2026-01-20"))
        self.assertEqual(self.plan.amount_paid, 450.0)
        self.assertEqual(self.plan.amount_residual, 450.0)
        self.assertEqual(self.plan.next_due_amount, 150.0)
        self._pay(self.invoice, 450.0, date="2026-01-25")
        self.assertEqual(self.lines.mapped("state"), ["paid"] * 3)
        self.assertEqual(self.plan.state, "paid")
        self.assertEqual(self.lines[2].date_paid, fields.Date.to_date("2026-01-25"))

    def test_unreconcile_brings_states_back(self):
        payment = self._pay(self.invoice, 900.0)
        self.assertEqual(self.plan.state, "paid")
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual(self.plan.state, "active")
        self.assertEqual(self.lines.mapped("state"), ["pending"] * 3)
        self.assertFalse(self.lines[0].date_paid)

    def test_payment_reversal(self):
        payment = self._pay(self.invoice, 300.0)
        self.assertEqual(self.lines[0].state, "paid")
        payment.move_id._reverse_moves(cancel=True)
        self.assertEqual(self.lines[0].state, "pending")

    def test_credit_note_reduces_from_the_tail(self):
        self._credit_note(self.invoice, 400.0)
        self.assertEqual(self.lines.mapped("amount_reduced"), [0.0, 100.0, 300.0])
        self.assertEqual(self.lines.mapped("amount_residual"), [300.0, 200.0, 0.0])
        self.assertEqual(self.lines.mapped("state"), ["pending", "pending", "paid"])
        self.assertEqual(self.plan.amount_reduced, 400.0)
        self.assertEqual(self.plan.amount_paid, 0.0)
        self.assertEqual(self.plan.next_due_amount, 300.0)
        self._pay(self.invoice, 500.0)
        self.assertEqual(self.plan.state, "paid")

    def test_register_payment_proposes_due_amount(self):
        def proposed(date):
            wizard = (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=self.invoice.ids)
                .create({"payment_date": date})
            )
            return wizard.amount

        self.assertEqual(proposed("2026-01-10"), 300.0)  # nothing due: the next one
        with freeze_time("2026-03-10"):
            self.env["installment.plan"]._cron_installment_daily()
            self.assertEqual(proposed("2026-03-10"), 600.0)  # late + due today

    def test_portal_pay_amount_follows_plan(self):
        values = self.invoice._get_invoice_next_payment_values()
        self.assertEqual(values["installment_state"], "next")
        self.assertEqual(values["next_amount_to_pay"], 300.0)
        with freeze_time("2026-03-10"):
            values = self.invoice._get_invoice_next_payment_values()
            self.assertEqual(values["installment_state"], "overdue")
            self.assertEqual(values["next_amount_to_pay"], 600.0)  # late + due today
        self._pay(self.invoice, 300.0)
        values = self.invoice._get_invoice_next_payment_values()
        self.assertEqual(values["next_amount_to_pay"], 300.0)

    def test_daily_action_flips_late_once(self):
        cron = self.env.ref("installment_credit.ir_cron_installment_daily")
        self.assertEqual(cron.code.strip(), "model._cron_installment_daily()")
        with freeze_time("2026-02-10"):
            late = self.env["installment.plan"]._cron_installment_daily()
            self.assertFalse(late, "due today is not late yet")
        with freeze_time("2026-02-11"):
            late = self.env["installment.plan"]._cron_installment_daily()
            self.assertEqual(late, self.lines[0])
            self.assertEqual(self.lines.mapped("state"), ["late", "pending", "pending"])
            self.assertEqual(self.plan.amount_late, 300.0)
            again = self.env["installment.plan"]._cron_installment_daily()
            self.assertFalse(again)
            self.assertEqual(self.plan.amount_late, 300.0)
            # Paying the late installment makes it paid, not late.
            self._pay(self.invoice, 300.0, date="2026-02-11")
            self.assertEqual(self.lines.mapped("state"), ["paid", "pending", "pending"])
            self.assertEqual(self.plan.amount_late, 0.0)

    def test_plan_rows_can_be_updated_in_place(self):
        """The plans' totals change daily: their table keeps free room on each
        page and no index has a total as a key, so that PostgreSQL can update
        those rows without touching any index (HOT). (The state appears only
        in the predicate of the one-active-plan index; it changes once or
        twice in a plan's life, when it is paid or cancelled.)"""
        cr = self.env.cr
        cr.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'installment_plan'::regclass"
        )
        self.assertIn("fillfactor=50", cr.fetchone()[0] or [])
        cr.execute(
            """SELECT DISTINCT att.attname
                 FROM pg_index ix
                 JOIN pg_attribute att
                   ON att.attrelid = ix.indrelid AND att.attnum = ANY(ix.indkey)
                WHERE ix.indrelid = 'installment_plan'::regclass"""
        )
        indexed = {row[0] for row in cr.fetchall()}
        plan_model = self.env["installment.plan"]
        moving = {
            name
            for name, field in plan_model._fields.items()
            if field.store
            and field.compute
            and name not in ("name",)
            and field.type != "many2one"
        } | {"write_date", "write_uid", "cancelled"}
        self.assertIn("amount_late", moving)
        self.assertFalse(indexed & moving, "indexed columns that plan updates write")

    def test_customer_level_payment_across_invoices(self):
        other = self._invoice(400.0)
        other_plan = other.create_installment_plan(count=2, first_due_date="2026-01-25")
        action = self.partner_a.action_register_installment_payment()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create({"amount": 1000.0, "payment_date": "2026-01-12"})
        )
        # Oldest first: other 01-25 (200), invoice 02-10 (300), other 02-25 (200),
        # invoice 03-10 (300 -> 300 of remaining).
        self.assertEqual(
            [(line.move_id, line.amount_applied) for line in wizard.line_ids],
            [
                (other, 200.0),
                (self.invoice, 300.0),
                (other, 200.0),
                (self.invoice, 300.0),
            ],
        )
        self.assertEqual(wizard.amount_excess, 0.0)
        wizard.action_confirm()
        self.assertEqual(other_plan.state, "paid")
        self.assertEqual(self.lines.mapped("state"), ["paid", "paid", "pending"])

        # Interleaved installments, partly covered: each invoice gets exactly
        # its installments' share (not all it can take).
        partner_b = self.partner_b
        first = self._invoice(300.0, partner=partner_b)
        second = self._invoice(300.0, partner=partner_b)
        first_plan = first.create_installment_plan(count=3, first_due_date="2026-02-01")
        second_plan = second.create_installment_plan(
            count=3, first_due_date="2026-02-15"
        )
        interleaved = self.env["installment.payment.register"].create(
            {"partner_id": partner_b.id, "amount": 400.0, "payment_date": "2026-01-12"}
        )
        interleaved.action_confirm()
        # 02-01 A 100, 02-15 B 100, 03-01 A 100, 03-15 B 100
        self.assertEqual(first_plan.amount_paid, 200.0)
        self.assertEqual(second_plan.amount_paid, 200.0)
        self.assertEqual(first.amount_residual, 100.0)
        self.assertEqual(second.amount_residual, 100.0)

        excess = self.env["installment.payment.register"].create(
            {
                "partner_id": self.partner_a.id,
                "amount": 500.0,
                "payment_date": "2026-01-12",
            }
        )
        self.assertEqual(excess.amount_excess, 200.0)
        payment = excess.action_confirm()
        self.assertEqual(self.plan.state, "paid")
        outstanding = self.env["account.payment"].browse(payment["res_id"])
        self.assertEqual(
            outstanding.move_id.line_ids.filtered(
                lambda line: (
                    line.account_id.account_type == "asset_receivable"
                    and not line.reconciled
                )
            ).mapped("amount_residual"),
            [-200.0],
        )


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentSecurity(InstallmentCommon):
    def test_multi_company_isolation(self):
        invoice = self._invoice(100.0)
        plan = invoice.create_installment_plan(count=2, first_due_date="2026-02-01")
        other = self.setup_other_company()["company"]
        user = new_test_user(
            self.env,
            login="other_company_user",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(
            self.env["installment.plan"].with_user(user).search([("id", "=", plan.id)])
        )
        self.assertFalse(
            self.env["installment.plan.line"]
            .with_user(user)
            .search([("plan_id", "=", plan.id)])
        )
        with self.assertRaises(AccessError):
            invoice.with_user(user).create_installment_plan(
                count=2, first_due_date="2026-02-01"
            )
        # Even past record rules (sudo code paths), the active companies rule.
        fresh = self._invoice(100.0)
        with self.assertRaisesRegex(UserError, "not among your active companies"):
            fresh.with_context(allowed_company_ids=[other.id]).create_installment_plan(
                count=2, first_due_date="2026-02-01"
            )
        self.assertFalse(fresh.installment_plan_ids)

    def test_user_without_manager_group(self):
        user = new_test_user(
            self.env,
            login="invoicing_clerk",
            groups="account.group_account_invoice",
        )
        self.assertTrue(user.has_group("installment_credit.group_installment_user"))
        self.assertFalse(user.has_group("installment_credit.group_installment_manager"))
        invoice = self._invoice(100.0)
        plan = invoice.with_user(user).create_installment_plan(
            count=2, first_due_date="2026-02-01"
        )
        plan.line_ids.sorted("sequence")[0].with_user(user).amount = 40.0
        with self.assertRaises(UserError):
            plan.line_ids.with_user(user).unlink()
        outsider = new_test_user(
            self.env, login="no_invoicing", groups="base.group_user"
        )
        with self.assertRaises(AccessError):
            self.env["installment.plan"].with_user(outsider).search([])
