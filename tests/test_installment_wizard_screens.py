from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import BillingCommon, InstallmentCommon


@tagged("post_install", "-at_install")
class TestInstallmentWizardScreens(InstallmentCommon):
    """Wizards start where the answer is known (issue 17, point 7) and the
    Installments wizard says before confirming that a date is before the
    invoice date (point 8)."""

    def _wizard_form(self, invoice, user=None):
        model = self.env["installment.plan.create"]
        if user:
            model = model.with_user(user)
        return Form(model.with_context(default_move_id=invoice.id))

    @freeze_time("2026-11-30")
    def test_fixed_amount_starts_at_the_even_split(self):
        invoice = self._invoice(1000.0, date="2026-11-30")
        with self._wizard_form(invoice) as wizard:
            self.assertEqual(wizard.count, 3)
            wizard.mode = "fixed"
            self.assertEqual(wizard.installment_amount, 333.34)
            self.assertFalse(wizard.preview_error)
            self.assertIn("333.32", wizard.preview_html)
            self.assertEqual(wizard.preview_html.count("<tr>"), 4, "3 rows")

    @freeze_time("2026-11-30")
    def test_customer_payment_proposes_late_and_due(self):
        with freeze_time("2026-09-30"):
            first = self._invoice(900.0, date="2026-09-30")
            first.create_installment_plan(count=3, first_due_date="2026-10-30")
            second = self._invoice(200.0, date="2026-09-30")
            second.create_installment_plan(count=2, first_due_date="2026-11-30")
        Register = self.env["installment.payment.register"].with_context(
            default_partner_id=self.partner_a.id
        )
        wizard = Form(Register)
        # 300 late since 10/30, 300 + 100 due today
        self.assertEqual(wizard.amount, 700.0)
        record = wizard.save()
        self.assertEqual(len(record.line_ids), 3, "the preview is filled")
        self.assertEqual(sum(record.line_ids.mapped("amount_applied")), 700.0)
        # nothing owed yet: the next installment
        other = self._invoice(400.0, date="2026-11-30", partner=self.partner_b)
        other.create_installment_plan(count=2, first_due_date="2026-12-15")
        wizard = Form(Register.with_context(default_partner_id=self.partner_b.id))
        self.assertEqual(wizard.amount, 200.0)

    @freeze_time("2026-11-30")
    def test_date_before_invoice_date_is_said_before_confirming(self):
        invoice = self._invoice(600.0, date="2026-11-30")
        form = self._wizard_form(invoice)
        form.first_due_date = "2026-11-20"
        self.assertIn("before the invoice date", form.early_warning)
        self.assertIn("11/20/2026", form.early_warning)
        self.assertIn("11/30/2026", form.early_warning)
        wizard = form.save()
        with self.assertRaisesRegex(UserError, "before the invoice date"):
            wizard.action_confirm()
        self.assertFalse(invoice.installment_plan_id, "nothing written")
        # a manager who confirms it gets the plan
        wizard.accept_early = True
        wizard.action_confirm()
        self.assertEqual(
            invoice.installment_plan_id.line_ids.sorted()[0].due_date.isoformat(),
            "2026-11-20",
        )
        # a later date: no warning
        other = self._invoice(600.0, date="2026-11-30")
        form = self._wizard_form(other)
        form.first_due_date = "2026-11-30"
        self.assertFalse(form.early_warning)

    @freeze_time("2026-11-30")
    def test_date_before_invoice_date_by_hand_and_for_a_user(self):
        user = new_test_user(
            self.env,
            login="installment_user_early",
            groups="account.group_account_invoice,installment_credit.group_installment_user",
        )
        invoice = self._invoice(600.0, date="2026-11-30")
        form = self._wizard_form(invoice, user=user)
        form.mode = "manual"
        with form.line_ids.new() as line:
            line.due_date = "2026-11-20"
            line.amount = 600.0
        self.assertIn("ask an Installments manager", form.early_warning)
        wizard = form.save()
        wizard.accept_early = True
        with self.assertRaisesRegex(UserError, "ask an Installments manager"):
            wizard.action_confirm()
        # the model refuses it too, whatever the path
        with self.assertRaises(ValidationError):
            invoice.with_user(user).create_installment_plan(
                lines=[("2026-11-20", 600.0)]
            )


@tagged("post_install", "-at_install")
class TestTopupWizardScreens(BillingCommon):
    @freeze_time("2026-11-30")
    def test_topup_proposes_the_auto_topup_amount_and_names_unpaid_topups(self):
        self.customer.auto_topup_amount = 500.0
        Topup = self.env["prepaid.balance.topup"].with_context(
            default_partner_id=self.customer.id
        )
        wizard = Form(Topup)
        self.assertEqual(wizard.amount, 500.0)
        self.assertFalse(wizard.pending_topup_note)
        unpaid = self._topup_invoice(500.0)
        wizard = Form(Topup)
        self.assertIn(unpaid.name, wizard.pending_topup_note)
        self.assertIn("500.00", wizard.pending_topup_note)
