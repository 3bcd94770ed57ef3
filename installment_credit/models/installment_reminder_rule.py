from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class InstallmentReminderRule(models.Model):
    """When to remind customers, and with which email.

    A rule fires for a target (an installment, or an open invoice of a
    postpaid customer without installment plan) once ``due date + offset_days``
    is reached and the target is still unpaid. Each (rule, target) is sent at
    most once: see ``installment.reminder.log``.
    """

    _name = "installment.reminder.rule"
    _description = "Reminder Rule"
    _order = "target, offset_days, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to apply the rule in every company.",
    )
    target = fields.Selection(
        [
            ("installment", "Installments of installment plans"),
            ("invoice", "Open invoices of postpaid customers without plan"),
        ],
        string="Applies to",
        required=True,
        default="installment",
    )
    offset_days = fields.Integer(
        string="Days from Due Date",
        required=True,
        default=0,
        aggregator=None,
        help="Negative: days before the due date; 0: on the due date; "
        "positive: days after it.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        required=True,
        domain=[("model", "=", "res.partner")],
        help="Rendered on the customer; the template lists what is due with "
        "object._installment_reminder_items().",
    )
    create_activity = fields.Boolean(
        string="Schedule a To-Do",
        help="Also schedule a to-do for the salesperson of each document reminded.",
    )
    log_ids = fields.One2many("installment.reminder.log", "rule_id", string="Sends")
    log_count = fields.Integer(string="Number of Sends", compute="_compute_log_count")

    @api.constrains("mail_template_id")
    def _check_mail_template_model(self):
        # The run renders the template on the customer: any other model
        # would fail at send time, for every customer of the batch.
        for rule in self:
            if rule.mail_template_id.model != "res.partner":
                raise ValidationError(
                    _(
                        "The email template of reminder rule %(rule)s must be a "
                        "template of Contact (res.partner), not of %(model)s: "
                        "choose a reminder template.",
                        rule=rule.name,
                        model=rule.mail_template_id.model_id.name
                        or rule.mail_template_id.model,
                    )
                )

    def _compute_log_count(self):
        counts = dict(
            self.env["installment.reminder.log"]._read_group(
                [("rule_id", "in", self.ids), ("state", "=", "sent")],
                ["rule_id"],
                ["__count"],
            )
        )
        for rule in self:
            rule.log_count = counts.get(rule, 0)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        # The send log is the proof of what customers were told: keep it.
        if (
            self.env["installment.reminder.log"]
            .sudo()
            .search_count([("rule_id", "in", self.ids)], limit=1)
        ):
            raise UserError(
                _(
                    "Reminders were already sent with this rule: archive it "
                    "instead of deleting it, so its send log is kept."
                )
            )

    @api.readonly
    def action_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_reminder_log_action"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {}
        return action
