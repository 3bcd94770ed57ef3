from odoo import api, fields, models
from odoo.tools import format_date


class InstallmentLateFee(models.Model):
    """One row per (installment, period) charged: the late fee log.

    The unique constraint makes the fee run idempotent, as the reminder log
    does for reminders: a period of an installment is claimed here before
    its invoice is created, so a second run (the same day, a catch-up after a
    missed day, a concurrent run) never charges it again. Rows are written by
    ``installment.late.fee.run`` only.
    """

    _name = "installment.late.fee"
    _description = "Installment Late Fee"
    _order = "date desc, id desc"
    _check_company_auto = True

    plan_line_id = fields.Many2one(
        "installment.plan.line",
        string="Installment",
        readonly=True,
        index=True,
        # The fee invoice is posted: its record outlives the installment.
        ondelete="set null",
    )
    period = fields.Integer(
        readonly=True,
        required=True,
        help="1 for the first fee of the installment, 2 for the first repeat...",
    )
    plan_id = fields.Many2one(
        "installment.plan", readonly=True, required=True, index=True
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", readonly=True, index=True
    )
    fee_move_id = fields.Many2one(
        "account.move", string="Fee Invoice", readonly=True, index=True
    )
    fee_payment_state = fields.Selection(
        related="fee_move_id.payment_state", string="Fee Payment Status"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", readonly=True, required=True, index=True
    )
    date = fields.Date(string="Charged on", readonly=True, required=True)
    due_date = fields.Date(
        string="Installment Due Date",
        readonly=True,
        help="The late installment's due date when the fee was charged.",
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_late = fields.Monetary(
        string="Late Amount",
        readonly=True,
        help="What was still due on the installment when the fee was charged.",
    )
    amount = fields.Monetary(
        string="Fee", readonly=True, help="The fee, before the product's taxes."
    )

    _sql_constraints = [
        (
            "plan_line_period_uniq",
            "UNIQUE(plan_line_id, period)",
            "This late fee was already charged for this installment and period.",
        ),
    ]

    @api.depends("period", "due_date")
    def _compute_display_name(self):
        for fee in self:
            fee.display_name = self.env._(
                "Late fee %(period)s on the installment due %(date)s",
                period=fee.period,
                date=format_date(self.env, fee.due_date) if fee.due_date else "",
            )
