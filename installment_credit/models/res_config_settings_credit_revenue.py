# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_revenue_on_use = fields.Boolean(
        related="company_id.credit_revenue_on_use", readonly=False
    )
    credit_deferred_account_id = fields.Many2one(
        related="company_id.credit_deferred_account_id", readonly=False
    )
    credit_breakage_account_id = fields.Many2one(
        related="company_id.credit_breakage_account_id", readonly=False
    )
