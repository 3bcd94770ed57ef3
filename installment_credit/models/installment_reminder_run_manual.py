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
        """Send, by hand, a reminder of everything owed on these targets now.

        The email lists every open target due by today (late ones with their
        days late, then what is due today), rendered with the template that
        fits the most advanced of them (see :meth:`_fitting_template`): an
        item is never called overdue before its due date. In the send log,
        targets whose rules are due get the most advanced one (as the daily
        run would); when no rule is due, the earliest open target gets the
        first rule not sent yet, ahead of time. Logged with ``manual``.

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
        # Everything owed now is listed, whether a rule is logged for it now
        # or not (the email leaves out what a log of it already lists).
        owed = self._owed_targets(today, plan_lines=plan_lines, invoices=invoices)
        extra = tuple((target._name, target.id) for _kind, target in owed)
        listed = [(kind, self._target_due_date(target)) for kind, target in owed]
        listed += [(c["kind"], c["due_date"]) for c in candidates]
        kind, due_date = min(listed, key=lambda item: item[1])
        template = rule_model._fitting_template(kind, (today - due_date).days, company)
        logs = rule_model._process_candidates(
            candidates,
            today,
            manual=True,
            email_options={
                "template": template,
                "extra_items": ((partner.id, extra),) if extra else (),
            },
        )
        if not logs.filtered(lambda log: log.state == "sent"):
            raise UserError(
                _(
                    "No reminder was sent: the due reminders were sent meanwhile "
                    "or are superseded by one already sent."
                )
            )
        return logs

    @api.model
    def _target_due_date(self, target):
        if target._name == "installment.plan.line":
            return target.due_date
        return target.invoice_date_due

    @api.model
    def _owed_targets(self, today, plan_lines=None, invoices=None):
        """``[(kind, record)]``: the open targets due by ``today``."""
        owed = []
        if plan_lines is not None:
            owed += [
                ("installment", line)
                for line in plan_lines.sorted("due_date")
                if line.state != "paid"
                and line.plan_id.state == "active"
                and line.currency_id.compare_amounts(line.amount_residual, 0) > 0
                and line.due_date <= today
            ]
        if invoices is not None:
            owed += [
                ("invoice", move)
                for move in invoices
                if move.state == "posted"
                and move.currency_id.compare_amounts(move.amount_residual, 0) > 0
                and move.invoice_date_due
                and move.invoice_date_due <= today
            ]
        return owed

    @api.model
    def _fitting_template(self, kind, days_late, company):
        """The template of the rule that fits an item ``days_late`` days
        after its due date (negative: before): the most advanced rule already
        due for it; ahead of time, the earliest rule that does not call it
        overdue (offset <= 0), else the shipped *upcoming* template, so that
        an item is never called overdue before its due date."""
        rules = (
            self.env["installment.reminder.rule"]
            .sudo()
            .search(
                [("target", "=", kind), ("company_id", "in", [company.id, False])],
                order="offset_days, sequence, id",
            )
        )
        due = rules.filtered(lambda rule: rule.offset_days <= days_late)
        if due:
            return due[-1].mail_template_id
        not_overdue = rules.filtered(lambda rule: rule.offset_days <= 0)
        if not_overdue:
            return not_overdue[0].mail_template_id
        upcoming = self.env.ref(
            "installment_credit.mail_template_installment_reminder_upcoming",
            raise_if_not_found=False,
        )
        if days_late <= 0 and upcoming:
            return upcoming
        return rules[:1].mail_template_id or upcoming

    @api.model
    def _send_now_notification(self, logs):
        sent = logs.filtered(lambda log: log.state == "sent")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "Reminder queued for %(partner)s: “%(subject)s”.",
                    partner=sent.partner_id[:1].display_name,
                    subject=", ".join(set(sent.mail_id.sudo().mapped("subject"))),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
