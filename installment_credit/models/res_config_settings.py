from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Installment agreements
    installment_working_day_policy = fields.Selection(
        related="company_id.installment_working_day_policy", readonly=False
    )

    # Prepaid and postpaid customers
    billing_limit_policy = fields.Selection(
        related="company_id.billing_limit_policy", readonly=False
    )
    prepayment_account_id = fields.Many2one(
        related="company_id.prepayment_account_id", readonly=False
    )
    prepaid_product_id = fields.Many2one(
        related="company_id.prepaid_product_id", readonly=False
    )
    prepaid_journal_id = fields.Many2one(
        related="company_id.prepaid_journal_id", readonly=False
    )

    # Credit packages
    credit_availability = fields.Selection(
        related="company_id.credit_availability", readonly=False
    )
    credit_renewal_days = fields.Integer(
        related="company_id.credit_renewal_days", readonly=False
    )
    credit_renewal_mode = fields.Selection(
        related="company_id.credit_renewal_mode", readonly=False
    )
    credit_expiry_notice_days = fields.Integer(
        related="company_id.credit_expiry_notice_days", readonly=False
    )
