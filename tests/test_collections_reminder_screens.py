from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import InstallmentCommon
from .smtp_sink import smtp_sink


@tagged("post_install", "-at_install")
class TestReminderScreens(InstallmentCommon):
    """What a collector reads about reminders: the manual email's content and
    the send log's delivery state (issue 17, points 4 and 5)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["installment.reminder.rule"]
        Rule.sudo().search([]).action_archive()
        cls.tpl_upcoming = cls.env.ref(
            "installment_credit.mail_template_installment_reminder_upcoming"
        )
        cls.tpl_overdue = cls.env.ref(
            "installment_credit.mail_template_installment_reminder_overdue"
        )

        def rule(name, offset, template):
            return Rule.create(
                {
                    "name": name,
                    "target": "installment",
                    "offset_days": offset,
                    "mail_template_id": template.id,
                    "company_id": cls.company.id,
                }
            )

        # the shipped installment rules: no rule on the due date itself
        cls.rule_before_7 = rule("before 7", -7, cls.tpl_upcoming)
        cls.rule_before_1 = rule("before 1", -1, cls.tpl_upcoming)
        cls.rule_after_1 = rule("Overdue notice, 1 day", 1, cls.tpl_overdue)
        cls.rule_after_30 = rule("after 30", 30, cls.tpl_overdue)
        cls.partner_a.email = "partner_a@example.com"
        with freeze_time("2026-09-30"):
            cls.invoice = cls._invoice(1500.0)
            cls.plan = cls.invoice.create_installment_plan(
                count=3, first_due_date="2026-10-30"
            )
        cls.line1, cls.line2, cls.line3 = cls.plan.line_ids.sorted("sequence")

    def _run(self, date):
        with freeze_time(date):
            self.env["installment.reminder.run"]._cron_send_reminders()

    def _logs(self, **domain):
        return self.env["installment.reminder.log"].search(
            [(key, "=", value) for key, value in domain.items()]
            + [("company_id", "=", self.company.id)]
        )

    def _mails(self):
        return self.env["mail.mail"].search(
            [("recipient_ids", "in", self.partner_a.ids)], order="id"
        )

    # ------------------------------------------------------------------
    # Point 4: the manual reminder lists everything owed now
    # ------------------------------------------------------------------

    def test_manual_reminder_lists_late_and_due_today(self):
        """The Joel Willis case: installment 1 is 31 days late and every rule
        of it was sent; installment 2 is due today. The manual email lists
        both, each with what it is, under the overdue template (installment
        1 is overdue), and does not call installment 2 overdue."""
        for day in ("2026-10-23", "2026-10-29", "2026-10-31", "2026-11-29"):
            self._run(day)
        self.assertEqual(
            self._logs(plan_line_id=self.line1.id, state="sent").rule_id,
            self.rule_before_7
            | self.rule_before_1
            | self.rule_after_1
            | self.rule_after_30,
        )
        before = self._mails()
        with freeze_time("2026-11-30"):
            action = self.plan.action_send_reminder()
        mail = self._mails() - before
        self.assertEqual(len(mail), 1)
        body = mail.body_html
        self.assertIn(f"Installment 1 of 3 on {self.invoice.name}", body)
        self.assertIn("31 day(s) overdue", body)
        self.assertIn(f"Installment 2 of 3 on {self.invoice.name}", body)
        self.assertIn("due today", body)
        self.assertNotIn("Installment 3 of 3", body, "not owed yet")
        self.assertIn("$\xa01,000.00", body, "the total owed now")
        self.assertIn("overdue payment", mail.subject, "installment 1 is overdue")
        self.assertIn("overdue payment", action["params"]["message"])

    def test_manual_reminder_never_calls_due_today_overdue(self):
        """Nothing late, installment 1 due today and no rule left but an
        overdue one: the email lists it as due today under the upcoming
        template, not as an overdue payment."""
        self._run("2026-10-29")  # before 7 and before 1 sent
        with freeze_time("2026-10-30"):
            self.plan.action_send_reminder()
        mail = self._mails()[-1]
        self.assertIn("due today", mail.body_html)
        self.assertNotIn("overdue", mail.body_html)
        self.assertNotIn("overdue payment", mail.subject)
        self.assertIn("payment reminder", mail.subject)

    def test_manual_reminder_ahead_of_time_uses_upcoming_template(self):
        self.rule_before_7.active = self.rule_before_1.active = False
        with freeze_time("2026-10-01"):
            self.plan.action_send_reminder()
        log = self._logs(plan_line_id=self.line1.id)
        self.assertEqual(log.rule_id, self.rule_after_1, "the only rule left")
        mail = self._mails()
        self.assertIn("due in 29 day(s)", mail.body_html)
        self.assertIn("payment reminder", mail.subject)

    # ------------------------------------------------------------------
    # Point 5: the send log follows the mail queue
    # ------------------------------------------------------------------

    def test_log_follows_mail_queue_sent(self):
        self._run("2026-10-23")
        log = self._logs(plan_line_id=self.line1.id)
        self.assertEqual(log.mail_id.state, "outgoing")
        self.assertEqual(log.delivery_state, "queued")
        with smtp_sink(self.env) as received:
            log.mail_id.send()
        self.assertEqual(log.mail_id.state, "sent", log.mail_id.failure_reason)
        self.assertEqual(len(received), 1)
        self.assertEqual(log.delivery_state, "sent")
        self.assertFalse(log.failure_reason)
        queued = self.env["installment.reminder.log"].search(
            [("delivery_state", "=", "queued"), ("id", "=", log.id)]
        )
        self.assertFalse(queued, "the stored state is searchable")

    def test_failed_log_shows_reason_and_is_retried(self):
        self.partner_a.email = "not an address"
        self._run("2026-10-23")
        log = self._logs(plan_line_id=self.line1.id)
        self.assertEqual(log.delivery_state, "queued")
        with smtp_sink(self.env):
            log.mail_id.send()
        self.assertEqual(log.mail_id.state, "exception")
        self.assertEqual(log.delivery_state, "failed")
        self.assertTrue(log.failure_reason)
        self.assertEqual(log.failure_reason, log.mail_id.failure_reason)
        failed = self.env["installment.reminder.log"].search(
            [("delivery_state", "=", "failed")]
        )
        self.assertIn(log, failed)
        # fixed on the customer, retried from the log
        self.partner_a.email = "partner_a@example.com"
        mail = log.mail_id
        log.action_retry()
        self.assertEqual(log.mail_id, mail, "the same email, queued again")
        self.assertEqual(mail.state, "outgoing")
        self.assertEqual(log.delivery_state, "queued")
        self.assertFalse(log.failure_reason)
        with smtp_sink(self.env):
            mail.send()
        self.assertEqual(log.delivery_state, "sent", mail.failure_reason)
        with self.assertRaisesRegex(UserError, "Only a reminder whose email failed"):
            log.action_retry()

    def test_retry_renders_a_deleted_email_again(self):
        self._run("2026-10-23")
        log = self._logs(plan_line_id=self.line1.id)
        log.mail_id.write({"state": "exception", "failure_reason": "SMTP down"})
        self.assertEqual(
            (log.delivery_state, log.failure_reason), ("failed", "SMTP down")
        )
        log.mail_id.unlink()
        self.assertEqual(log.delivery_state, "failed", "kept once the email is gone")
        log.action_retry()
        self.assertTrue(log.mail_id)
        self.assertEqual(log.delivery_state, "queued")
        self.assertIn(
            f"Installment 1 of 3 on {self.invoice.name}", log.mail_id.body_html
        )

    def test_cancelled_email_is_failed(self):
        self._run("2026-10-23")
        log = self._logs(plan_line_id=self.line1.id)
        log.mail_id.cancel()
        self.assertEqual(log.delivery_state, "failed")
        self.assertIn("cancelled", log.failure_reason)


@tagged("post_install", "-at_install")
class TestReminderRuleList(InstallmentCommon):
    """Point 6: the rules list adds nothing meaningless and names templates
    for what they remind."""

    def test_grouped_rules_do_not_sum_offsets(self):
        Rule = self.env["installment.reminder.rule"]
        self.assertFalse(
            Rule.fields_get(["offset_days"])["offset_days"].get("aggregator")
        )
        groups = Rule.read_group([], ["offset_days"], ["target"])
        self.assertTrue(groups)
        for group in groups:
            self.assertNotIn("offset_days", group)

    def test_shipped_templates_are_named_for_what_they_remind(self):
        rules = self.env["installment.reminder.rule"].search(
            [
                (
                    "id",
                    "in",
                    [
                        self.env.ref(
                            f"installment_credit.installment_reminder_rule_{xmlid}"
                        ).id
                        for xmlid in (
                            "invoice_before_7",
                            "invoice_after_1",
                            "before_7",
                            "after_1",
                        )
                    ],
                )
            ]
        )
        self.assertEqual(len(rules), 4)
        for rule in rules:
            name = rule.mail_template_id.name
            self.assertFalse(name.startswith("Installments"), name)
        self.assertEqual(
            set(rules.mail_template_id.mapped("name")),
            {"Payment reminder (coming due)", "Overdue notice (past due)"},
        )
