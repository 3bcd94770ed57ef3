from odoo import fields, models


class AccountMove(models.Model):
    """Late fee invoices: linked to the plan and the installments they charge."""

    _inherit = "account.move"

    installment_fee_plan_id = fields.Many2one(
        "installment.plan",
        string="Late Fee of Plan",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="This invoice charges late fees on the installments of this plan.",
    )
    installment_fee_ids = fields.One2many(
        "installment.late.fee",
        "fee_move_id",
        string="Late Fees Charged",
        readonly=True,
    )
