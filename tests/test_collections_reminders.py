from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestReminderRules(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["installment.reminder.rule"]
        # The shipped rules apply to every company; the tests use their own.
        Rule.sudo().search([]).action_archive()
        cls.tpl_upcoming = cls.env.ref(
            "installment_credit.mail_template_installment_reminder_upcoming"
        )
        cls.tpl_overdue = cls.env.ref(
            "installment_credit.mail_template_installment_reminder_overdue"
        )

        def rule(name, offset, template, target="installment", **vals):
            return Rule.create(
                {
                    "name": name,
                    "target": target,
                    "offset_days": offset,
                    "mail_template_id": template.id,
                    "company_id": cls.company.id,
                    **vals,
                }
            )

        cls.rule_before_7 = rule("before 7", -7, cls.tpl_upcoming)
        cls.rule_on_day = rule("on the day", 0, cls.tpl_upcoming)
        cls.rule_after_3 = rule("after 3", 3, cls.tpl_overdue, create_activity=True)
        cls.rule_invoice = rule("invoice after 1", 1, cls.tpl_overdue, target="invoice")
        cls.partner_a.email = "partner_a@example.com"
        cls.partner_b.email = "partner_b@example.com"
        with freeze_time("2026-01-10"):
            cls.invoice = cls._invoice(900.0)
            cls.plan = cls.invoice.create_installment_plan(
                count=3, first_due_date="2026-02-10"
            )
        cls.line1, cls.line2, cls.line3 = cls.plan.line_ids.sorted("sequence")

    def _run(self, date, **kwargs):
        with freeze_time(date):
            return self.env["installment.reminder.run"]._cron_send_reminders(**kwargs)

    def _logs(self, **domain):
        return self.env["installment.reminder.log"].search(
            [(key, "=", value) for key, value in domain.items()]
            + [("company_id", "=", self.company.id)]
        )

    def _mails(self, partner):
        return self.env["mail.mail"].search([("recipient_ids", "in", partner.ids)])

    def test_offsets_before_on_and_after_due(self):
        self._run("2026-02-02")  # due 2026-02-10 minus 8 days: nothing yet
        self.assertFalse(self._logs(plan_line_id=self.line1.id))
        self._run("2026-02-03")
        self.assertEqual(
            self._logs(plan_line_id=self.line1.id).rule_id, self.rule_before_7
        )
        self._run("2026-02-10")
        self.assertEqual(
            self._logs(plan_line_id=self.line1.id).rule_id,
            self.rule_before_7 | self.rule_on_day,
        )
        self._run("2026-02-12")
        self.assertNotIn(
            self.rule_after_3, self._logs(plan_line_id=self.line1.id).rule_id
        )
        self._run("2026-02-13")
        log = self._logs(plan_line_id=self.line1.id, rule_id=self.rule_after_3.id)
        self.assertEqual(log.state, "sent")
        self.assertEqual(log.due_date.isoformat(), "2026-02-10")
        self.assertEqual(log.amount_residual, 300.0)
        # the overdue rule schedules a to-do on the plan
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "installment.plan"), ("res_id", "=", self.plan.id)]
        )
        self.assertEqual(len(activity), 1)
        self.assertIn("after 3", activity.summary)
        # the second installment is not due yet for any rule but the first
        self.assertFalse(self._logs(plan_line_id=self.line2.id))

    def test_idempotent_across_runs_and_skipped_day(self):
        self._run("2026-02-04")  # the 2026-02-03 run did not happen
        logs = self._logs(plan_line_id=self.line1.id)
        self.assertEqual(logs.rule_id, self.rule_before_7)
        mails = self._mails(self.partner_a)
        self.assertEqual(len(mails), 1)
        self.assertEqual(self._run("2026-02-04"), 0)
        self._run("2026-02-05")
        self.assertEqual(self._logs(plan_line_id=self.line1.id), logs)
        self.assertEqual(self._mails(self.partner_a), mails)
        # the unique constraint backs the run up
        with (
            self.assertRaisesRegex(UniqueViolation, "rule_plan_line_uniq"),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "INSERT INTO installment_reminder_log "
                "(rule_id, plan_line_id, date, state) VALUES (%s, %s, %s, 'sent')",
                (self.rule_before_7.id, self.line1.id, "2026-02-05"),
            )

    def test_catch_up_sends_only_the_latest_rule(self):
        # first run long after the due date: one overdue notice, not three emails
        self._run("2026-02-20")
        logs = self._logs(plan_line_id=self.line1.id)
        self.assertEqual(len(logs), 3)
        sent = logs.filtered(lambda log: log.state == "sent")
        self.assertEqual(sent.rule_id, self.rule_after_3)
        self.assertEqual(
            (logs - sent).mapped("state"), ["skipped", "skipped"], "superseded"
        )
        self.assertEqual(len(self._mails(self.partner_a)), 1)
        # a rule added later with a smaller offset is never sent after a later one
        rule_after_1 = self.rule_after_3.copy({"name": "after 1", "offset_days": 1})
        self._run("2026-02-21")
        self.assertEqual(
            self._logs(plan_line_id=self.line1.id, rule_id=rule_after_1.id).state,
            "skipped",
        )
        self.assertEqual(len(self._mails(self.partner_a)), 1)

    def test_paid_target_is_not_reminded(self):
        self._pay(self.invoice, 300.0, date="2026-02-01")
        self.assertEqual(self.line1.state, "paid")
        self._run("2026-02-10")
        self.assertFalse(self._logs(plan_line_id=self.line1.id))
        self._run("2026-03-03")  # line 2 due 2026-03-10: reminded
        self.assertEqual(
            self._logs(plan_line_id=self.line2.id).rule_id, self.rule_before_7
        )

    def test_one_email_per_customer_listing_every_item(self):
        with freeze_time("2026-01-12"):
            other = self._invoice(500.0)
            other.create_installment_plan(count=1, first_due_date="2026-02-10")
            plain = self._invoice(
                200.0,
                date="2026-02-01",
                invoice_payment_term_id=False,
                invoice_date_due="2026-02-01",
            )
        self._run("2026-02-10")
        mails = self._mails(self.partner_a)
        self.assertEqual(len(mails), 1, "one email for all due items")
        self.assertEqual(mails.state, "outgoing", "queued, not sent inline")
        body = mails.body_html
        self.assertIn(self.invoice.name, body)
        self.assertIn(other.name, body)
        self.assertIn(plain.name, body)
        # the most advanced rule picks the template: the overdue invoice
        self.assertIn("overdue payment", mails.subject)
        self.assertIn("9 day(s) overdue", body)
        self.assertIn("due today", body)
        logs = self._logs(partner_id=self.partner_a.id, state="sent")
        self.assertEqual(set(logs.mail_id.ids), set(mails.ids))
        # one note in the chatter of each document concerned
        for record in (self.plan, other.installment_plan_id, plain):
            notes = record.message_ids.filtered(
                lambda m: "Reminder emailed to" in (m.body or "")
            )
            self.assertEqual(len(notes), 1, record.display_name)
        self.assertEqual(
            logs.filtered("invoice_id").message_id.res_id, plain.id, "linked note"
        )

    def test_email_states_overdue_days_as_of_the_run_date(self):
        """A run for a past day (the scheduler catching up) says how late the
        items were on that day, not on the day the email is rendered."""
        with freeze_time("2026-02-20"):
            self.env["installment.reminder.run"]._cron_send_reminders(
                today="2026-02-13"
            )
        mail = self._mails(self.partner_a)
        self.assertEqual(len(mail), 1)
        self.assertEqual(
            self._logs(plan_line_id=self.line1.id, state="sent").rule_id,
            self.rule_after_3,
        )
        self.assertIn("3 day(s) overdue", mail.body_html)
        self.assertNotIn("10 day(s) overdue", mail.body_html)

    def test_batch_renders_each_customer_own_items_compiling_once(self):
        """The run computes the listed items of a whole batch at once and
        compiles the email body once: each email still lists only what its
        own customer owes."""
        with freeze_time("2026-01-12"):
            other = self._invoice(500.0, partner=self.partner_b)
            other.create_installment_plan(count=2, first_due_date="2026-02-10")
        # what earlier tests compiled is still on the test cursor
        self.env.cr.cache.pop("installment_reminder_qweb", None)
        IrQweb = type(self.env["ir.qweb"])
        generate_code = IrQweb._generate_code
        compiled = []

        def count_compiles(qweb, template, *args, **kwargs):
            # the check of the template for restricted code compiles it too
            if not qweb.env.context.get("raise_on_forbidden_code_for_model"):
                compiled.append(template)
            return generate_code(qweb, template, *args, **kwargs)

        with patch.object(IrQweb, "_generate_code", count_compiles):
            self._run("2026-02-10")
        mail_a, mail_b = self._mails(self.partner_a), self._mails(self.partner_b)
        self.assertEqual((len(mail_a), len(mail_b)), (1, 1))
        self.assertIn(f"Installment 1 of 3 on {self.invoice.name}", mail_a.body_html)
        self.assertNotIn(other.name, mail_a.body_html)
        self.assertIn(f"Installment 1 of 2 on {other.name}", mail_b.body_html)
        self.assertNotIn(self.invoice.name, mail_b.body_html)
        self.assertIn("$\xa0300.00", mail_a.body_html)
        self.assertIn("$\xa0250.00", mail_b.body_html)
        self.assertEqual(len(compiled), 1, "one compile of the body for the batch")

    def test_invoice_rule_skips_invoices_with_plan_and_prepaid(self):
        with freeze_time("2026-01-12"):
            plain = self._invoice(
                200.0,
                date="2026-01-12",
                partner=self.partner_b,
                invoice_payment_term_id=False,
                invoice_date_due="2026-01-20",
            )
        self._run("2026-01-21")
        log = self._logs(invoice_id=plain.id)
        self.assertEqual(log.rule_id, self.rule_invoice)
        self.assertEqual(log.move_id, plain)
        self.assertEqual(log.due_date.isoformat(), "2026-01-20")
        self.assertFalse(self._logs(invoice_id=self.invoice.id), "has a plan")
        if "billing_mode" in self.env["res.partner"]._fields:
            # with the prepaid/postpaid capability merged: prepaid are skipped
            self.partner_b.billing_mode = "prepaid"
            with freeze_time("2026-01-12"):
                prepaid = self._invoice(
                    100.0,
                    date="2026-01-12",
                    partner=self.partner_b,
                    invoice_payment_term_id=False,
                    invoice_date_due="2026-01-20",
                )
            self._run("2026-01-22")
            self.assertFalse(self._logs(invoice_id=prepaid.id))

    def test_excluded_customer(self):
        self.partner_a.installment_no_reminder = True
        self._run("2026-02-10")
        self.assertFalse(self._logs(partner_id=self.partner_a.id))
        with freeze_time("2026-02-10"), self.assertRaisesRegex(UserError, "excluded"):
            self.plan.action_send_reminder()
        # the flag follows the commercial entity
        contact = self.env["res.partner"].create(
            {"name": "contact", "parent_id": self.partner_a.id}
        )
        self.assertTrue(contact.installment_no_reminder)

    def test_manual_send(self):
        with freeze_time("2026-01-15"):
            # nothing due yet: the first rule of the earliest installment, early
            action = self.plan.action_send_reminder()
            self.assertEqual(action["tag"], "display_notification")
            log = self._logs(plan_line_id=self.line1.id)
            self.assertEqual(log.rule_id, self.rule_before_7)
            self.assertTrue(log.manual)
            self.assertEqual(len(self._mails(self.partner_a)), 1)
            self.invoice.action_send_installment_reminder()  # goes to the plan
            self.assertEqual(
                self._logs(plan_line_id=self.line1.id).rule_id,
                self.rule_before_7 | self.rule_on_day,
            )
            self.plan.action_send_reminder()
            self.assertEqual(len(self._logs(plan_line_id=self.line1.id)), 3)
            self.plan.action_send_reminder()  # next installment's first rule
            self.assertEqual(
                self._logs(plan_line_id=self.line2.id).rule_id, self.rule_before_7
            )
        # the daily run does not send again what was sent by hand
        self._run("2026-02-03")
        self.assertEqual(len(self._logs(plan_line_id=self.line1.id)), 3)
        self.assertEqual(len(self._mails(self.partner_a)), 4)
        self.partner_a.email = False
        with self.assertRaisesRegex(UserError, "no email address"):
            self.plan.action_send_reminder()

    def test_manual_send_on_plain_invoice(self):
        with freeze_time("2026-01-12"):
            plain = self._invoice(
                200.0,
                partner=self.partner_b,
                invoice_payment_term_id=False,
                invoice_date_due="2026-01-20",
            )
            plain.action_send_installment_reminder()
            self.assertEqual(self._logs(invoice_id=plain.id).rule_id, self.rule_invoice)
            with self.assertRaisesRegex(UserError, "already been sent"):
                plain.action_send_installment_reminder()
            self._pay(plain, 200.0, date="2026-01-12")
            with self.assertRaisesRegex(UserError, "not an open customer invoice"):
                plain.action_send_installment_reminder()

    def test_batches_with_progress_and_no_split_customer(self):
        partners = self.env["res.partner"].create(
            [{"name": f"batch {i}", "email": f"b{i}@example.com"} for i in range(4)]
        )
        with freeze_time("2026-01-10"):
            for partner in partners:
                self._invoice(100.0, partner=partner).create_installment_plan(
                    count=1, first_due_date="2026-02-10"
                )
        cron = self.env.ref("installment_credit.ir_cron_installment_daily")
        progress = (
            self.env["ir.cron.progress"]
            .sudo()
            .create({"cron_id": cron.id, "remaining": 0, "done": 0})
        )
        Rule = type(self.env["installment.reminder.run"])
        original = Rule._process_candidates
        batches = []

        def spy(rule_self, candidates, today, manual=False):
            batches.append(sorted({c["partner_id"] for c in candidates}))
            return original(rule_self, candidates, today, manual)

        with freeze_time("2026-02-10"), patch.object(Rule, "_process_candidates", spy):
            done = (
                self.env["installment.reminder.run"]
                .with_context(ir_cron_progress_id=progress.id)
                ._cron_send_reminders(batch_size=3)
            )
        # 5 customers with one installment each, 2 rules due (-7 and 0) each:
        # batches of at least 3 targets, never splitting a customer
        self.assertEqual(done, 10)
        self.assertEqual((progress.done, progress.remaining), (10, 0))
        ids = sorted((partners | self.partner_a).ids)
        self.assertEqual(batches, [ids[0:2], ids[2:4], ids[4:5]])
        for partner in partners | self.partner_a:
            self.assertEqual(len(self._mails(partner)), 1, partner.name)
            self.assertEqual(
                self._logs(partner_id=partner.id, state="sent").rule_id,
                self.rule_on_day,
            )

    def test_commits_between_batches_only_as_a_cron(self):
        partner = self.env["res.partner"].create(
            {"name": "batch", "email": "batch@example.com"}
        )
        with freeze_time("2026-01-10"):
            self._invoice(100.0, partner=partner).create_installment_plan(
                count=1, first_due_date="2026-02-10"
            )
        Rule = self.env["installment.reminder.run"]
        with (
            patch.object(self.env.cr, "commit") as commit,
            patch("odoo.modules.module.current_test", False),
        ):
            # the scheduler runs jobs with cron_id in the context
            with freeze_time("2026-02-03"):
                Rule.with_context(cron_id=1)._cron_send_reminders(batch_size=1)
            self.assertEqual(commit.call_count, 2, "one commit per customer batch")
            with freeze_time("2026-02-10"):
                Rule._cron_send_reminders(batch_size=1)
            self.assertEqual(commit.call_count, 2, "no commit outside the scheduler")
        self.assertEqual(
            len(self._logs(partner_id=partner.id, state="sent")), 2, "both days sent"
        )

    def test_claim_twice_is_a_no_op(self):
        candidate = {
            "kind": "installment",
            "rule_id": self.rule_before_7.id,
            "target_id": self.line1.id,
            "move_id": self.invoice.id,
            "plan_id": self.plan.id,
            "partner_id": self.partner_a.id,
            "company_id": self.company.id,
            "due_date": self.line1.due_date,
            "currency_id": self.currency.id,
            "amount_residual": 300.0,
            "state": "sent",
        }
        Rule = self.env["installment.reminder.run"]
        first = Rule._claim_reminders([candidate], self.line1.due_date, False)
        self.assertEqual(len(first), 1)
        self.assertFalse(Rule._claim_reminders([candidate], self.line1.due_date, False))

    def test_rule_with_history_cannot_be_deleted(self):
        self._run("2026-02-03")
        with self.assertRaisesRegex(UserError, "archive it"):
            self.rule_before_7.unlink()
        self.rule_on_day.unlink()  # never used: fine
        self.assertFalse(self.rule_on_day.exists())

    def test_daily_cron_uses_the_late_hook(self):
        with freeze_time("2026-02-13"):
            self.env["installment.plan"]._cron_installment_daily()
        self.assertEqual(self.line1.state, "late")
        self.assertEqual(
            self._logs(plan_line_id=self.line1.id, state="sent").rule_id,
            self.rule_after_3,
        )

    def test_access_rights(self):
        user = new_test_user(
            self.env,
            login="collections_user",
            groups="account.group_account_invoice",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            self.env["installment.reminder.rule"].with_user(user).create(
                {
                    "name": "nope",
                    "offset_days": 1,
                    "mail_template_id": self.tpl_overdue.id,
                }
            )
        self.assertTrue(
            self.env["installment.reminder.rule"].with_user(user).search([]),
            "users can read the rules",
        )
        # an invoicing user can send by hand
        with freeze_time("2026-02-10"):
            self.plan.with_user(user).action_send_reminder()
        self.assertTrue(
            self._logs(plan_line_id=self.line1.id, state="sent").manual,
        )
        other = self.setup_other_company()["company"]
        stranger = new_test_user(
            self.env,
            login="collections_stranger",
            groups="account.group_account_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertFalse(
            self.env["installment.reminder.log"].with_user(stranger).search([])
        )
        self.assertFalse(
            self.env["installment.reminder.rule"]
            .with_user(stranger)
            .search([("company_id", "=", self.company.id)])
        )
