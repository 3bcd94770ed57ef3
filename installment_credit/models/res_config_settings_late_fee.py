from odoo import api, fields, models

LATE_FEE_PREFIX = "installment_late_fee_"


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

    @api.model_create_multi
    def create(self, vals_list):
        """Write the late fee terms to the company in one write.

        Related settings are written one field at a time: switching to a
        percentage and setting it would meet the company's constraint with
        the type changed but the percentage not yet set.
        """
        for vals in vals_list:
            terms = {
                name: vals.pop(name)
                for name in list(vals)
                if name.startswith(LATE_FEE_PREFIX)
            }
            if terms:
                company = (
                    self.env["res.company"].browse(vals["company_id"])
                    if vals.get("company_id")
                    else self.env.company
                )
                company.write(terms)
        return super().create(vals_list)
