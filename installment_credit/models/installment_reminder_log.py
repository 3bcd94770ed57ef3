from odoo import fields, models
from odoo.tools import format_amount, format_date


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

    def _reminder_labels(self):
        """``{log id: label}``: how each target is named in emails, chatter
        notes and activities.

        An installment is named by its position in its plan: each plan's lines
        are read and sorted once for the whole batch, not once per log.
        """
        positions = {}
        for plan in self.plan_line_id.plan_id:
            lines = plan.line_ids.sorted()
            count = len(lines)
            for position, line in enumerate(lines, start=1):
                positions[line.id] = (position, count)
        labels = {}
        for log in self:
            if log.plan_line_id:
                position, count = positions[log.plan_line_id.id]
                labels[log.id] = self.env._(
                    "Installment %(position)s of %(count)s on %(invoice)s",
                    position=position,
                    count=count,
                    invoice=log.move_id.name,
                )
            else:
                labels[log.id] = self.env._("Invoice %s", log.move_id.name)
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
