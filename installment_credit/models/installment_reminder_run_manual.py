from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError


class InstallmentReminderRun(models.AbstractModel):
    """*Send Reminder Now*: the reminder run for one plan or invoice, by hand."""

    _inherit = "installment.reminder.run"

    # ------------------------------------------------------------------
    # Manual send
    # ------------------------------------------------------------------

    @api.model
    def _check_send_rights(self):
        """*Send Reminder Now* is for Installments & Credits users: checked
        before anything is read or claimed (the run itself writes the send
        log in SQL, which no access right would stop)."""
        if not self.env.su and not self.env.user.has_group(
            "installment_credit.group_installment_user"
        ):
            raise AccessError(
                _(
                    "Only Installments & Credits users can send a reminder by "
                    "hand: ask a user of that group to send it."
                )
            )

    @api.model
    def _send_now(self, partner, plan_lines=None, invoices=None):
        """Send, by hand, the next applicable reminder of these targets.

        Targets whose rules are due get the most advanced one (as the daily
        run would); when nothing is due yet, the earliest open target gets
        the first rule not sent yet, ahead of time. Logged with ``manual``.

        :raise AccessError: the caller is not an Installments & Credits user
        :raise UserError: customer excluded or without email, or no rule left
        :return: the logs written
        """
        self._check_send_rights()
        today = fields.Date.context_today(self)
        if partner.installment_no_reminder:
            raise UserError(
                _(
                    '%s is excluded from reminders. Untick "Exclude from '
                    'Reminders" on the customer to send one.',
                    partner.display_name,
                )
            )
        if not partner.email:
            raise UserError(
                _(
                    "%s has no email address: add one on the customer to send "
                    "a reminder.",
                    partner.display_name,
                )
            )
        company = (plan_lines or invoices).company_id[:1]
        rule_model = self.with_company(company)
        candidates = rule_model._collect_candidates(
            today, company, plan_lines=plan_lines, invoices=invoices
        )
        if not candidates:
            candidates = rule_model._collect_candidates(
                fields.Date.add(today, years=100),
                company,
                plan_lines=plan_lines,
                invoices=invoices,
            )
            if candidates:
                first = min(candidates, key=lambda c: (c["due_date"], c["target_id"]))
                candidates = [
                    min(
                        (
                            c
                            for c in candidates
                            if (c["kind"], c["target_id"])
                            == (first["kind"], first["target_id"])
                        ),
                        key=lambda c: (c["offset_days"], c["sequence"], c["rule_id"]),
                    )
                ]
        if not candidates:
            raise UserError(
                _(
                    "Every reminder rule has already been sent for what is open "
                    "on this document, or nothing is left to pay. Add a rule, or "
                    "delete a send log to send it again."
                )
            )
        logs = rule_model._process_candidates(candidates, today, manual=True)
        if not logs.filtered(lambda log: log.state == "sent"):
            raise UserError(
                _(
                    "No reminder was sent: the due reminders were sent meanwhile "
                    "or are superseded by one already sent."
                )
            )
        return logs

    @api.model
    def _send_now_notification(self, logs):
        sent = logs.filtered(lambda log: log.state == "sent")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "Reminder queued for %(partner)s (%(rules)s).",
                    partner=sent.partner_id[:1].display_name,
                    rules=", ".join(sent.rule_id.mapped("name")),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
