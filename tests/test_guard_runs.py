import logging
from unittest.mock import patch

from freezegun import freeze_time
from markupsafe import Markup

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BillingCommon, CreditInvoicingCommon, InstallmentCommon

BAD = "Bad Customer"
GUARD_LOGGER = "odoo.addons.installment_credit.models.installment_batch_guard"
# Renders for every customer but BAD: a template that does not render for one
FAILING_SNIPPET = Markup(
    f'<p t-if="object.name == \'{BAD}\'" t-out="object.no_such_field"/>'
)


class GuardedRunMixin:
    """Issue 15, point 10: three customers, the first one fails."""

    def _run_as_cron(self, method, xmlid):
        """Call a scheduled action's method as the scheduler does (with
        ``cron_id``, committing), without a savepoint around it: what the run
        wrote before reporting the failure stays visible. The test cursor
        cannot commit: commits are only counted, as in
        ``test_collections_reminders``.

        :return: the error, if any
        """
        cron = self.env.ref(xmlid)
        self.commits = 0

        def commit():
            self.commits += 1

        with (
            patch.object(self.env.cr, "commit", side_effect=commit),
            patch("odoo.modules.module.current_test", False),
            self.assertLogs(GUARD_LOGGER, level="WARNING") as logs,
        ):
            # assertLogs needs one line to pass: a run that skips nothing
            # logs none of its own
            logging.getLogger(GUARD_LOGGER).warning("test run of %s", xmlid)
            try:
                method(cron.id)
                error = None
            except UserError as exc:
                error = exc
        # A skipped customer is in the server log (and only then)
        errors = [line for line in logs.output if line.startswith("ERROR:")]
        if error is None:
            self.assertFalse(errors, "nothing skipped, nothing logged as an error")
            return None
        self.assertTrue(self.commits, "what succeeded is committed before the failure")
        self.assertTrue(errors, "the skipped customer is in the server log")
        return error

    def assertSkippedNoted(self, partner, what):
        notes = partner.message_ids.filtered(lambda m: what in str(m.body))
        self.assertEqual(len(notes), 1, f"{what} noted on {partner.name}")


@tagged("post_install", "-at_install")
class TestReminderRunGuard(GuardedRunMixin, InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["installment.reminder.rule"]
        Rule.sudo().search([]).action_archive()
        cls.template = cls.env.ref(
            "installment_credit.mail_template_installment_reminder_overdue"
        ).copy({"name": "guarded reminder"})
        cls.good_body = cls.template.body_html
        Rule.create(
            {
                "name": "after 3",
                "offset_days": 3,
                "mail_template_id": cls.template.id,
                "company_id": cls.company.id,
            }
        )
        cls.customers = cls.env["res.partner"].create(
            [
                {"name": name, "email": f"c{i}@example.com"}
                for i, name in enumerate([BAD, "Good One", "Good Two"])
            ]
        )
        cls.lines = cls.env["installment.plan.line"]
        with freeze_time("2026-01-10"):
            for customer in cls.customers:
                plan = cls._invoice(100.0, partner=customer).create_installment_plan(
                    count=1, first_due_date="2026-02-10"
                )
                cls.lines |= plan.line_ids
        cls.template.body_html = FAILING_SNIPPET + cls.good_body

    def _sent(self, customer):
        return self.env["installment.reminder.log"].search(
            [("partner_id", "=", customer.id), ("state", "=", "sent")]
        )

    def _daily(self, cron_id):
        self.env["installment.plan"].with_context(
            cron_id=cron_id
        )._cron_installment_daily()

    def test_failing_customer_is_skipped_noted_and_sent_next_run(self):
        bad, good1, good2 = self.customers
        with freeze_time("2026-02-13"):
            error = self._run_as_cron(
                self._daily, "installment_credit.ir_cron_installment_daily"
            )
        self.assertIsNotNone(error, "the scheduled action reports the failure")
        self.assertIn(BAD, str(error))
        self.assertEqual(set(self.lines.mapped("state")), {"late"})
        self.assertFalse(self._sent(bad))
        for good in (good1, good2):
            self.assertEqual(len(self._sent(good)), 1, good.name)
            self.assertEqual(len(self._sent(good).mail_id), 1)
        self.assertSkippedNoted(bad, "Payment reminder skipped")
        # the template is fixed: the next run sends the skipped one, once
        self.template.body_html = self.good_body
        with freeze_time("2026-02-14"):
            self.assertIsNone(
                self._run_as_cron(
                    self._daily, "installment_credit.ir_cron_installment_daily"
                )
            )
        with freeze_time("2026-02-15"):
            self._daily(False)
        for customer in self.customers:
            self.assertEqual(len(self._sent(customer)), 1, customer.name)
            self.assertEqual(len(self._sent(customer).mail_id), 1)

    def test_late_flip_is_committed_before_any_reminder(self):
        seen = []

        def commit():
            self.env.cr.execute(
                "SELECT array_agg(DISTINCT state) FROM installment_plan_line "
                "WHERE id = ANY(%s)",
                [self.lines.ids],
            )
            states = self.env.cr.fetchone()[0]
            self.env.cr.execute(
                "SELECT count(*) FROM installment_reminder_log "
                "WHERE partner_id = ANY(%s)",
                [self.customers.ids],
            )
            seen.append((states, self.env.cr.fetchone()[0]))

        self.template.body_html = self.good_body
        with (
            patch.object(self.env.cr, "commit", side_effect=commit),
            patch("odoo.modules.module.current_test", False),
            freeze_time("2026-02-13"),
        ):
            cron = self.env.ref("installment_credit.ir_cron_installment_daily")
            self._daily(cron.id)
        self.assertEqual(seen[0], (["late"], 0), "flip committed, nothing sent yet")
        self.assertEqual(seen[-1][1], 3, "reminders committed after")

    def test_candidates_are_collected_per_batch(self):
        """A batch's amounts are read when the batch is sent, not when the
        run starts: a payment committed while earlier batches were sent is
        seen by the later batches."""
        good2 = self.customers[2]
        self.template.body_html = self.good_body
        Run = type(self.env["installment.reminder.run"])
        original = Run._process_candidates
        paid = []

        def process_then_pay(run_self, candidates, today, manual=False):
            result = original(run_self, candidates, today, manual)
            if not paid:
                # between the first and the second batch, good2 pays half
                paid.append(True)
                with freeze_time("2026-02-12"):
                    self._pay(
                        self.lines.filtered(lambda x: x.partner_id == good2).move_id,
                        40.0,
                    )
            return result

        with (
            freeze_time("2026-02-13"),
            patch.object(Run, "_process_candidates", process_then_pay),
        ):
            self.env["installment.reminder.run"]._cron_send_reminders(batch_size=1)
        self.assertEqual(self._sent(good2).amount_residual, 60.0)


@freeze_time("2026-03-15")
@tagged("post_install", "-at_install")
class TestAutoTopupRunGuard(GuardedRunMixin, BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": name,
                    "billing_mode": "prepaid",
                    "auto_topup_enabled": True,
                    "auto_topup_threshold": 100.0,
                    "auto_topup_amount": 500.0,
                    "email": f"t{i}@example.com",
                }
                for i, name in enumerate([BAD, "Good One", "Good Two"])
            ]
        )
        # an account that cannot be used: the first customer's receivable
        cls.deprecated = cls.company_data["default_account_receivable"].copy(
            {"code": "121999", "name": "Old receivable"}
        )
        cls.customers[0].property_account_receivable_id = cls.deprecated
        cls.deprecated.deprecated = True

    def _topups(self, partner):
        return self.env["account.move"].search(
            [
                ("partner_id", "=", partner.id),
                ("move_type", "=", "out_invoice"),
                ("line_ids.account_id", "=", self.prepayment_account.id),
            ]
        )

    def _cron(self, cron_id):
        self.env["res.partner"].with_context(cron_id=cron_id)._cron_prepaid_auto_topup()

    def test_failing_customer_is_skipped_noted_and_topped_up_next_run(self):
        bad, good1, good2 = self.customers
        error = self._run_as_cron(
            self._cron, "installment_credit.ir_cron_prepaid_auto_topup"
        )
        self.assertIsNotNone(error, "the scheduled action reports the failure")
        self.assertIn(BAD, str(error))
        self.assertFalse(self._topups(bad))
        for good in (good1, good2):
            self.assertEqual(len(self._topups(good)), 1, good.name)
        self.assertSkippedNoted(bad, "Automatic top-up skipped")
        self.assertSkippedNoted(bad, "deprecated")
        # the account is usable again: the next run tops the first one up, once
        self.deprecated.deprecated = False
        self.assertIsNone(
            self._run_as_cron(
                self._cron, "installment_credit.ir_cron_prepaid_auto_topup"
            )
        )
        self._cron(False)
        for customer in self.customers:
            self.assertEqual(len(self._topups(customer)), 1, customer.name)


@tagged("post_install", "-at_install")
class TestCreditNoticeRunGuard(GuardedRunMixin, CreditInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.credit_expiry_notice_days = 7
        cls.customers = cls.env["res.partner"].create(
            [
                {"name": name, "email": f"n{i}@example.com"}
                for i, name in enumerate([BAD, "Good One", "Good Two"])
            ]
        )
        with freeze_time("2026-01-10"):
            for customer in cls.customers:
                cls._sell(cls.pkg_month, partner=customer)
        cls.template = cls.env.ref(
            "installment_credit.credit_grant_mail_template_expiring"
        )
        cls.good_body = cls.template.body_html
        cls.template.body_html = (
            FAILING_SNIPPET.replace("object.name", "object.partner_id.name")
            + cls.good_body
        )

    def _grants(self, partner):
        return self.env["credit.grant"].search([("partner_id", "=", partner.id)])

    def _cron(self, cron_id):
        self.env["credit.grant"].with_context(cron_id=cron_id)._cron_expire_and_notify()

    def test_failing_customer_is_skipped_noted_and_notified_next_run(self):
        bad, good1, good2 = self.customers
        cron = "installment_credit.ir_cron_credit_expiry"
        with freeze_time("2026-02-05"):
            error = self._run_as_cron(self._cron, cron)
        self.assertIsNotNone(error, "the scheduled action reports the failure")
        self.assertIn(BAD, str(error))
        self.assertFalse(any(self._grants(bad).mapped("expiry_notified")))
        for good in (good1, good2):
            self.assertTrue(all(self._grants(good).mapped("expiry_notified")))
        self.assertSkippedNoted(bad, "Credit expiry notice skipped")
        self.template.body_html = self.good_body
        mails = self.env["mail.mail"].search_count([])
        with freeze_time("2026-02-06"):
            self.assertIsNone(self._run_as_cron(self._cron, cron))
            self._cron(False)
        self.assertTrue(all(self._grants(bad).mapped("expiry_notified")))
        self.assertEqual(
            self.env["mail.mail"].search_count([]) - mails,
            len(self._grants(bad)),
            "the skipped customer notified once, the others not again",
        )
