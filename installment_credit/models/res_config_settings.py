from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    installment_working_day_policy = fields.Selection(
        related="company_id.installment_working_day_policy", readonly=False
    )
