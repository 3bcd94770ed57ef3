# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    credit_availability = fields.Selection(
        related="company_id.credit_availability", readonly=False
    )
    credit_expiry_notice_days = fields.Integer(
        related="company_id.credit_expiry_notice_days", readonly=False
    )
