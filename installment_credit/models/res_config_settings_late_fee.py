from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    installment_late_fee_enabled = fields.Boolean(
        related="company_id.installment_late_fee_enabled", readonly=False
    )
    installment_late_fee_type = fields.Selection(
        related="company_id.installment_late_fee_type", readonly=False
    )
    installment_late_fee_amount = fields.Monetary(
        related="company_id.installment_late_fee_amount",
        readonly=False,
        currency_field="currency_id",
    )
    installment_late_fee_percent = fields.Float(
        related="company_id.installment_late_fee_percent", readonly=False
    )
    installment_late_fee_grace_days = fields.Integer(
        related="company_id.installment_late_fee_grace_days", readonly=False
    )
    installment_late_fee_repeat_days = fields.Integer(
        related="company_id.installment_late_fee_repeat_days", readonly=False
    )
    installment_late_fee_max_count = fields.Integer(
        related="company_id.installment_late_fee_max_count", readonly=False
    )
    installment_late_fee_product_id = fields.Many2one(
        related="company_id.installment_late_fee_product_id", readonly=False
    )
    installment_late_fee_journal_id = fields.Many2one(
        related="company_id.installment_late_fee_journal_id", readonly=False
    )
