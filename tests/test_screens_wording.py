from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import BillingCommon, InstallmentCommon


@tagged("post_install", "-at_install")
class TestScreensWording(InstallmentCommon):
    """Issue 17, point 12: one vocabulary, dates as the interface shows them,
    no "late" when nothing is late."""

    def test_invoice_tab_speaks_the_plan_vocabulary(self):
        plan_fields = self.env["installment.plan"].fields_get(
            ["amount_paid", "amount_residual", "next_due_date", "next_due_amount"]
        )
        move_fields = self.env["account.move"].fields_get(
            [
                "installment_amount_paid",
                "installment_amount_residual",
                "installment_next_due_date",
                "installment_next_due_amount",
            ]
        )
        self.assertEqual(
            [plan_fields[name]["string"] for name in plan_fields],
            [move_fields[f"installment_{name}"]["string"] for name in plan_fields],
        )
        self.assertEqual(
            move_fields["installment_next_due_date"]["string"], "Next Due Date"
        )

    def test_partner_button_says_late_only_when_late(self):
        arch = self.env["res.partner"].get_views([(False, "form")])["views"]["form"][
            "arch"
        ]
        button = etree.fromstring(arch).xpath(
            "//button[@name='action_view_installments']"
        )[0]
        late = button.xpath(".//field[@name='installment_late_amount']/..")[0]
        self.assertEqual(late.get("invisible"), "not installment_late_amount")

    @freeze_time("2026-01-10")
    def test_dates_in_messages_are_formatted(self):
        invoice = self._invoice(300.0)
        plan = invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        line1, line2, _line3 = plan.line_ids.sorted()
        # A date past an unpaid neighbour re-orders the schedule (issue 18,
        # point 6); past a paid one it is refused, naming both dates.
        self._pay(invoice, 100.0)
        with self.assertRaises(UserError) as caught:
            line2.due_date = "2026-02-01"
        message = str(caught.exception)
        self.assertIn("02/01/2026", message)
        self.assertIn(line1.due_date.strftime("%m/%d/%Y"), message)
        self.assertNotIn("2026-02-01", message)

    @freeze_time("2026-02-13")
    def test_reminder_note_formats_dates(self):
        Rule = self.env["installment.reminder.rule"]
        Rule.sudo().search([]).action_archive()
        Rule.create(
            {
                "name": "after 3",
                "target": "installment",
                "offset_days": 3,
                "mail_template_id": self.env.ref(
                    "installment_credit.mail_template_installment_reminder_overdue"
                ).id,
                "company_id": self.company.id,
                "create_activity": True,
            }
        )
        self.partner_a.email = "partner_a@example.com"
        invoice = self._invoice(300.0)
        plan = invoice.create_installment_plan(count=1, first_due_date="2026-02-10")
        self.env["installment.reminder.run"]._cron_send_reminders()
        note = plan.message_ids.filtered(lambda m: "Reminder emailed" in (m.body or ""))
        self.assertIn("due 02/10/2026", note.body)
        activity = plan.activity_ids
        self.assertIn("02/10/2026", str(activity.note))


@tagged("post_install", "-at_install")
class TestScreensBilling(BillingCommon):
    @freeze_time("2026-03-15")
    def test_send_reminder_hidden_for_prepaid_invoice(self):
        prepaid_invoice = self._invoice(50.0)  # open: within the credit limit
        self.assertEqual(prepaid_invoice.payment_state, "not_paid")
        self.assertFalse(prepaid_invoice.installment_can_send_reminder)
        with self.assertRaisesRegex(UserError, "prepaid customer"):
            prepaid_invoice.action_send_installment_reminder()
        postpaid_invoice = self._invoice(50.0, partner=self.postpaid)
        self.assertTrue(postpaid_invoice.installment_can_send_reminder)
        draft = self._invoice(50.0, partner=self.postpaid, post=False)
        self.assertFalse(draft.installment_can_send_reminder)

    @freeze_time("2026-03-15")
    def test_credit_limit_dialog_speaks_to_the_manager(self):
        boss = new_test_user(
            self.env,
            login="screens_boss",
            groups="account.group_account_invoice,"
            "installment_credit.group_installment_manager",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self._invoice(1000.0, partner=self.postpaid)
        invoice = self._invoice(250.0, partner=self.postpaid, post=False)
        action = invoice.with_user(boss).action_post()
        wizard = self.env["billing.limit.override"].browse(action["res_id"])
        self.assertNotIn("ask a manager", wizard.message)
        self.assertIn("post anyway", wizard.message)
        self.assertEqual(
            wizard.fields_get(["move_ids"])["move_ids"]["string"], "Invoices"
        )

    @freeze_time("2026-03-15")
    def test_prepaid_balance_list_has_a_running_balance(self):
        self._fund(300.0)
        self._invoice(120.0)
        self._direct_payment(10.0)
        action = self.customer.action_prepaid_history()
        view_id = action["views"][0][0]
        arch = self.env["account.move.line"].get_view(view_id, "list")["arch"]
        self.assertIn('name="prepaid_running_balance"', arch)
        # as the list reads it: its domain and order, newest first
        lines = self.env["account.move.line"].search_fetch(
            action["domain"], ["prepaid_running_balance"], order="date desc, id desc"
        )
        running = lines.mapped("prepaid_running_balance")
        self.assertAlmostEqual(running[0], 190.0, msg="the newest is the balance")
        self.assertAlmostEqual(
            running[-1], -lines[-1].balance, msg="the oldest is its own movement"
        )
        for newer, older, line in zip(running, running[1:], lines, strict=False):
            self.assertAlmostEqual(newer, older - line.balance)
