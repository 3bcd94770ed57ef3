# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Prepaid and postpaid customers
    credit_limit_policy = fields.Selection(
        related="company_id.credit_limit_policy", readonly=False
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
