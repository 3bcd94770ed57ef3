from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date

# mail.mail state -> delivery state of the reminder it carries
DELIVERY_STATES = {
    "outgoing": "queued",
    "sent": "sent",
    "received": "sent",
    "exception": "failed",
    "cancel": "failed",
}


class InstallmentReminderLog(models.Model):
    """One row per (rule, target) ever handled: the send log.

    The unique constraints make the reminder run idempotent: a target gets a
    given rule at most once, whether the run is repeated, caught up after a
    missed day, resumed after a crash or raced by a manual send. Rows are
    written by ``installment.reminder.run._claim_reminders`` only.
    """

    _name = "installment.reminder.log"
    _description = "Reminder Send Log"
    _order = "date desc, id desc"
    _rec_name = "rule_id"

    rule_id = fields.Many2one(
        "installment.reminder.rule",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    target = fields.Selection(related="rule_id.target")
    plan_line_id = fields.Many2one(
        "installment.plan.line",
        string="Installment",
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    invoice_id = fields.Many2one(
        "account.move",
        string="Reminded Invoice",
        readonly=True,
        index=True,
        ondelete="cascade",
        help="Set when the rule targets invoices without installment plan.",
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", readonly=True, index=True
    )
    plan_id = fields.Many2one("installment.plan", readonly=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    date = fields.Date(readonly=True, required=True)
    due_date = fields.Date(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_residual = fields.Monetary(
        string="Amount Due", readonly=True, help="What was due when the reminder went."
    )
    state = fields.Selection(
        [("sent", "Emailed"), ("skipped", "Superseded")],
        string="Decision",
        readonly=True,
        required=True,
        default="sent",
        help="Emailed: this reminder was handed to the mail queue (see Delivery "
        "for whether it left). Superseded: a later rule of the same target was "
        "due in the same run (or was already sent), so this one is recorded "
        "without an email.",
    )
    delivery_state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        string="Delivery",
        readonly=True,
        index=True,
        help="What the mail queue reports about the email: queued (not sent "
        "yet), sent, or failed (see the failure reason; retry it from here).",
    )
    failure_reason = fields.Text(readonly=True)
    manual = fields.Boolean(string="Sent by Hand", readonly=True)
    mail_id = fields.Many2one("mail.mail", string="Email", readonly=True, index=True)
    message_id = fields.Many2one(
        "mail.message", string="Chatter Message", readonly=True
    )
    user_id = fields.Many2one("res.users", string="Sent by", readonly=True)

    _sql_constraints = [
        (
            "rule_plan_line_uniq",
            "UNIQUE(rule_id, plan_line_id)",
            "This reminder was already sent for this installment.",
        ),
        (
            "rule_invoice_uniq",
            "UNIQUE(rule_id, invoice_id)",
            "This reminder was already sent for this invoice.",
        ),
        (
            "one_target",
            "CHECK((plan_line_id IS NULL) != (invoice_id IS NULL))",
            "A reminder log targets exactly one installment or one invoice.",
        ),
    ]

    def _sync_delivery_state(self, mail_ids):
        """Copy the state and failure reason of these ``mail.mail`` ids onto
        the logs of the reminders they carry, in one UPDATE (called when the
        logs are linked to their emails and whenever the mail queue writes a
        state)."""
        if not mail_ids:
            return
        self.env["mail.mail"].flush_model(["state", "failure_reason"])
        cases = SQL(" ").join(
            SQL("WHEN %s THEN %s", mail_state, delivery)
            for mail_state, delivery in DELIVERY_STATES.items()
        )
        rows = self.env.execute_query(
            SQL(
                """
            UPDATE installment_reminder_log log
               SET delivery_state = CASE mail.state %(cases)s END,
                   failure_reason = CASE
                        WHEN mail.state = 'cancel'
                        THEN COALESCE(mail.failure_reason, %(cancelled)s)
                        WHEN mail.state = 'exception' THEN mail.failure_reason
                   END
              FROM mail_mail mail
             WHERE mail.id = log.mail_id
               AND log.mail_id = ANY(%(mail_ids)s)
            RETURNING log.id
                """,
                cases=cases,
                cancelled=self.env._("The email was cancelled in the mail queue."),
                mail_ids=list(mail_ids),
            )
        )
        if rows:
            self.invalidate_model(["delivery_state", "failure_reason"])

    def action_retry(self):
        """Queue the failed emails of these reminders again (after fixing the
        customer's address or the mail server). An email deleted from the
        queue is rendered again from the log, with the amounts it had.

        :raise UserError: none of the reminders failed
        """
        run = self.env["installment.reminder.run"]
        run._check_send_rights()
        failed = self.filtered(lambda log: log.delivery_state == "failed")
        if not failed:
            raise UserError(
                _(
                    "Only a reminder whose email failed can be retried; these are "
                    "queued, sent or superseded. Filter the send log on Failed."
                )
            )
        with_mail = failed.filtered("mail_id")
        if with_mail:
            with_mail.mail_id.sudo().write(
                {"state": "outgoing", "failure_reason": False, "failure_type": False}
            )
        lost = (failed - with_mail).sudo()
        if lost:
            run.sudo()._write_log_links(
                {"mail_id": run.sudo()._send_reminder_emails(lost)}
            )
            self._sync_delivery_state(lost.mail_id.ids)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%s reminder email(s) queued again.", len(failed)),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _reminder_labels(self):
        """``{log id: label}``: how each target is named in emails, chatter
        notes and activities.

        An installment is named by its position in its plan: each plan's lines
        are read and sorted once for the whole batch, not once per log.
        """
        line_labels = self._plan_line_labels(self.plan_line_id)
        labels = {}
        for log in self:
            if log.plan_line_id:
                labels[log.id] = line_labels[log.plan_line_id.id]
            else:
                labels[log.id] = self.env._("Invoice %s", log.move_id.name)
        return labels

    def _plan_line_labels(self, lines):
        """``{plan line id: label}``, e.g. "Installment 1 of 3 on INV/…"."""
        labels = {}
        for plan in lines.plan_id:
            plan_lines = plan.line_ids.sorted()
            count = len(plan_lines)
            for position, line in enumerate(plan_lines, start=1):
                labels[line.id] = self.env._(
                    "Installment %(position)s of %(count)s on %(invoice)s",
                    position=position,
                    count=count,
                    invoice=plan.move_id.name,
                )
        return labels


class ReminderFormatter:
    """``format_amount``/``format_date`` of many values in one language.

    A reminder run formats the same due dates and installment amounts over
    and over; each distinct value is formatted once (the language lookup and
    the locale parsing of Odoo's helpers cost more than the formatting).
    """

    def __init__(self, env, lang_code=None):
        self.env = env
        self.lang_code = lang_code
        self._amounts = {}
        self._dates = {}

    def amount(self, amount, currency):
        key = (amount, currency.id)
        if key not in self._amounts:
            self._amounts[key] = format_amount(
                self.env, amount, currency, self.lang_code
            )
        return self._amounts[key]

    def date(self, value):
        if value not in self._dates:
            self._dates[value] = format_date(self.env, value, lang_code=self.lang_code)
        return self._dates[value]
