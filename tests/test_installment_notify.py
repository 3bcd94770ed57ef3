from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from odoo.addons.installment_credit.models.installment_plan import plan_service

from .common import InstallmentCommon

NOTE = "Secret: agreed by phone, watch this customer"


@tagged("post_install", "-at_install")
@freeze_time("2026-01-10")
class TestInstallmentNotify(InstallmentCommon):
    """Issue 18, points 1-4: the customer is told (new plan, changes), the
    change history, the payment reference, the internal note."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_a.email = "customer.a@example.com"
        cls.portal_user = new_test_user(
            cls.env,
            login="notify_portal",
            groups="base.group_portal",
            name="Notify Portal",
            email="notify.portal@example.com",
        )
        cls.portal_user.partner_id.parent_id = cls.partner_a

    def _mails(self, plan):
        return self.env["mail.mail"].search(
            [("model", "=", "installment.plan"), ("res_id", "=", plan.id)]
        )

    def _plan(self, notify=False, **kwargs):
        invoice = self._invoice(900.0)
        invoice.payment_reference = "RF18 5390 0754 7034"
        return invoice.create_installment_plan(
            count=3, first_due_date="2026-02-10", notify_customer=notify, **kwargs
        )

    def assertScheduleMail(self, mail, plan):
        self.assertEqual(mail.recipient_ids, self.partner_a)
        self.assertEqual(mail.state, "outgoing")
        body = str(mail.body_html)
        for date in ("02/10/2026", "03/10/2026", "04/10/2026"):
            self.assertIn(date, body)
        self.assertIn("300.00", body)
        self.assertIn("RF18 5390 0754 7034", body)
        self.assertIn("/my/installments/%s" % plan.id, body)
        self.assertNotIn(NOTE, body)
        self.assertEqual(len(mail.attachment_ids), 1)
        attachment = mail.attachment_ids
        self.assertIn("Installment schedule", attachment.name)
        # Tests render reports as HTML (Odoo skips wkhtmltopdf in test mode).
        content = attachment.raw.decode()
        self.assertIn("RF18 5390 0754 7034", content)
        self.assertIn("02/10/2026", content)
        self.assertNotIn(NOTE, content)

    # ------------------------------------------------------------------
    # 1. A new plan: the service, the wizard, payment terms at posting
    # ------------------------------------------------------------------

    def test_service_sends_the_schedule_only_when_asked(self):
        silent = self._plan()
        self.assertFalse(self._mails(silent))
        plan = self._plan(notify=True)
        mail = self._mails(plan)
        self.assertEqual(len(mail), 1)
        self.assertIn(plan.move_id.name, mail.subject)
        self.assertScheduleMail(mail, plan)
        self.assertIn("Emailed to", plan.message_ids[0].body)

    def test_wizard_sends_by_default_and_can_be_unticked(self):
        for send in (True, False):
            invoice = self._invoice(900.0)
            invoice.payment_reference = "RF18 5390 0754 7034"
            form = Form(
                self.env["installment.plan.create"].with_context(
                    default_move_id=invoice.id
                )
            )
            self.assertTrue(form.notify_customer)
            form.count = 3
            form.first_due_date = "2026-02-10"
            form.notify_customer = send
            form.save().action_confirm()
            plan = invoice.installment_plan_id
            mails = self._mails(plan)
            if send:
                self.assertScheduleMail(mails, plan)
            else:
                self.assertFalse(mails)

    def test_payment_term_plans_follow_the_company_setting(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "Three months",
                "installment_enabled": True,
                "installment_count": 3,
                "installment_first_type": "after_days",
                "installment_first_days": 31,
                "installment_interval_unit": "month",
            }
        )
        quiet = self._invoice(900.0, invoice_payment_term_id=term.id)
        self.assertTrue(quiet.installment_plan_id)
        self.assertFalse(self._mails(quiet.installment_plan_id))
        settings = self.env["res.config.settings"].create({})
        settings.installment_notify_terms = True
        settings.execute()
        self.assertTrue(self.company.installment_notify_terms)
        told = self._invoice(900.0, invoice_payment_term_id=term.id)
        mail = self._mails(told.installment_plan_id)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.partner_a)
        self.assertEqual(len(mail.attachment_ids), 1)

    # ------------------------------------------------------------------
    # 2. The change history, and the change email
    # ------------------------------------------------------------------

    def test_edits_are_recorded_with_old_and_new_values(self):
        plan = self._plan()
        first, second, third = plan.line_ids.sorted()
        # A plain write (RPC): recorded, the customer is not emailed.
        second.write({"amount": 200.0})
        third.write({"due_date": "2026-04-20"})
        changes = plan.change_ids.sorted("id")
        self.assertEqual(
            [
                (c.kind, c.position, c.line_id, c.old_value, c.new_value)
                for c in changes
            ],
            [
                ("amount", 2, second, "$\xa0300.00", "$\xa0200.00"),
                ("amount", 3, third, "$\xa0300.00", "$\xa0400.00"),
                ("date", 3, third, "04/10/2026", "04/20/2026"),
            ],
        )
        self.assertEqual(set(changes.user_id.ids), {self.env.user.id})
        self.assertEqual(plan.schedule_changed_on, max(changes.mapped("date")))
        self.assertFalse(self._mails(plan))
        self.assertFalse(first.write({"is_manual": True}) and plan.change_ids - changes)

    def test_form_save_notifies_by_default_with_what_changed(self):
        plan = self._plan()
        second = plan.line_ids.sorted()[1]
        # The form's Save (web_save): Notify customer is on unless unticked.
        plan.web_save({"line_ids": [Command.update(second.id, {"amount": 250.0})]}, {})
        mail = self._mails(plan)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.partner_a)
        self.assertIn("changed", mail.subject)
        body = str(mail.body_html)
        self.assertIn("Installment 2: Amount changed: $\xa0300.00 → $\xa0250.00", body)
        self.assertIn("Installment 3: Amount changed: $\xa0300.00 → $\xa0350.00", body)
        self.assertIn("RF18 5390 0754 7034", body)
        self.assertEqual(len(mail.attachment_ids), 1)
        plan.web_save(
            {
                "notify_customer": False,
                "line_ids": [Command.update(second.id, {"amount": 260.0})],
            },
            {},
        )
        self.assertEqual(self._mails(plan), mail)
        self.assertEqual(len(plan.change_ids), 4)

    def test_rpc_write_can_ask_to_notify(self):
        plan = self._plan()
        plan.internal_note = NOTE
        plan.write(
            {
                "notify_customer": True,
                "line_ids": [
                    Command.update(plan.line_ids.sorted()[0].id, {"amount": 100.0})
                ],
            }
        )
        mail = self._mails(plan)
        self.assertEqual(len(mail), 1)
        self.assertNotIn(NOTE, str(mail.body_html))
        self.assertNotIn(NOTE, mail.attachment_ids.raw.decode())

    def test_cancel_and_replace_are_recorded(self):
        plan = self._plan()
        plan.with_context(installment_notify_customer=True).action_cancel()
        self.assertEqual(plan.change_ids.mapped("kind"), ["cancelled"])
        mail = self._mails(plan)
        self.assertEqual(len(mail), 1)
        self.assertIn("Plan cancelled", str(mail.body_html))
        new_plan = plan.move_id.create_installment_plan(
            count=2, first_due_date="2026-03-01"
        )
        self.assertEqual(
            plan.change_ids.sorted("id").mapped("kind"), ["cancelled", "replaced"]
        )
        self.assertEqual(
            plan.change_ids.filtered(lambda c: c.kind == "replaced").new_value,
            "2 installments, 03/01/2026 – 04/01/2026",
        )
        self.assertFalse(new_plan.change_ids)

    def test_installments_added_and_removed_are_recorded(self):
        plan = self._plan()
        last = plan.line_ids.sorted()[-1]
        # The plan service splits the last installment in two, then merges
        # them back: each step is one history row with the installment.
        Line = plan_service(self.env["installment.plan.line"]).with_context(
            installment_skip_sum_check=True
        )
        plan_service(last).with_context(installment_skip_sum_check=True).write(
            {"amount": 200.0}
        )
        added = Line.create(
            {"plan_id": plan.id, "due_date": "2026-05-10", "amount": 100.0}
        )
        plan._check_lines_sum()
        self.assertEqual(
            [(c.kind, c.position, c.new_value) for c in plan.change_ids.sorted("id")],
            [
                ("amount", 3, "$\xa0200.00"),
                ("added", 4, "05/10/2026 $\xa0100.00"),
            ],
        )
        plan_service(added).unlink()
        removed = plan.change_ids.sorted("id")[-1]
        self.assertEqual(
            (removed.kind, removed.position, removed.old_value),
            ("removed", 4, "05/10/2026 $\xa0100.00"),
        )

    def test_history_is_written_by_the_plan_only(self):
        plan = self._plan()
        user = new_test_user(
            self.env,
            login="notify_user",
            groups="account.group_account_invoice",
        )
        Change = self.env["installment.plan.change"].with_user(user)
        with self.assertRaises(AccessError):
            Change.create({"plan_id": plan.id, "kind": "cancelled"})
        plan.line_ids.sorted()[1].with_user(user).write({"amount": 200.0})
        changes = Change.search([("plan_id", "=", plan.id)])
        self.assertEqual(len(changes), 2)
        self.assertEqual(changes.user_id, user)
        with self.assertRaises(AccessError):
            changes.write({"new_value": "forged"})
        with self.assertRaises(AccessError):
            changes.unlink()

    # ------------------------------------------------------------------
    # 3. The payment reference
    # ------------------------------------------------------------------

    def test_payment_reference_shown_and_searchable(self):
        plan = self._plan()
        self.assertEqual(plan.payment_reference, "RF18 5390 0754 7034")
        self.assertEqual(plan.payment_reference_label, "RF18 5390 0754 7034")
        self.assertEqual(
            plan.line_ids.mapped("payment_reference_label"),
            ["RF18 5390 0754 7034"] * 3,
        )
        Plan = self.env["installment.plan"]
        self.assertEqual(Plan.search([("payment_reference", "ilike", "0754 70")]), plan)
        plan.move_id.payment_reference = False
        plan.invalidate_recordset()
        self.assertEqual(plan.payment_reference_label, "No payment reference")
        self.assertFalse(Plan.search([("payment_reference", "ilike", "0754 70")]))

    def test_reminder_email_states_the_payment_reference(self):
        plan = self._plan()
        plan.action_send_reminder()
        mail = self.env["mail.mail"].search(
            [("recipient_ids", "in", self.partner_a.ids)], order="id desc", limit=1
        )
        self.assertIn("Payment reference", str(mail.body_html))
        self.assertIn("RF18 5390 0754 7034", str(mail.body_html))

    # ------------------------------------------------------------------
    # 4. The internal note
    # ------------------------------------------------------------------

    def test_internal_note_not_readable_by_portal_users(self):
        plan = self._plan()
        plan.internal_note = NOTE
        as_portal = plan.with_user(self.portal_user)
        # The customer reads their plan, its payment reference...
        self.assertEqual(
            as_portal.read(["payment_reference"])[0]["payment_reference"],
            "RF18 5390 0754 7034",
        )
        # ... but neither the note nor the history (portal controller only).
        with self.assertRaises(AccessError):
            as_portal.read(["internal_note"])
        with self.assertRaises(AccessError):
            as_portal.read(["change_ids"])
        with self.assertRaises(AccessError):
            self.env["installment.plan.change"].with_user(self.portal_user).search([])
        self.assertNotIn("internal_note", as_portal.read()[0])
