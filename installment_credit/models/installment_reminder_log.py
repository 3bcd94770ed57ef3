from odoo import fields, models


class InstallmentReminderLog(models.Model):
    """One row per (rule, target) ever handled: the send log.

    The unique constraints make the reminder run idempotent: a target gets a
    given rule at most once, whether the run is repeated, caught up after a
    missed day, resumed after a crash or raced by a manual send. Rows are
    written by ``installment.reminder.rule._claim_reminders`` only.
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
        [("sent", "Sent"), ("skipped", "Superseded")],
        readonly=True,
        required=True,
        default="sent",
        help="Superseded: a later rule of the same target was due in the same "
        "run (or was already sent), so this one is recorded without an email.",
    )
    manual = fields.Boolean(string="Sent by Hand", readonly=True)
    mail_id = fields.Many2one("mail.mail", string="Email", readonly=True)
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

    def _reminder_label(self):
        """How the target is named in emails and chatter notes."""
        self.ensure_one()
        if self.plan_line_id:
            line = self.plan_line_id
            return self.env._(
                "Installment %(position)s of %(count)s on %(invoice)s",
                position=line._get_position(),
                count=len(line.plan_id.line_ids),
                invoice=self.move_id.name,
            )
        return self.env._("Invoice %s", self.move_id.name)
