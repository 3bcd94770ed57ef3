from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    installment_notify_terms = fields.Boolean(
        string="Send Payment-Term Schedules to Customers",
        help="Email the customer the schedule of an installment plan made from "
        "a payment term when its invoice is posted.",
    )


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    installment_notify_terms = fields.Boolean(
        related="company_id.installment_notify_terms", readonly=False
    )
