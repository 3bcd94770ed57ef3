# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models


class CreditPackageSell(models.TransientModel):
    """Renew a subscription or sell a recharge: prepares the customer invoice."""

    _name = "credit.package.sell"
    _description = "Renew or recharge credits"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company
    )
    package_kind = fields.Selection(
        [("subscription", "Renew subscription"), ("recharge", "Recharge")],
        string="Kind",
        required=True,
        default="subscription",
    )
    package_id = fields.Many2one(
        "credit.package",
        required=True,
        compute="_compute_package_id",
        store=True,
        readonly=False,
        domain="[('company_id', '=', company_id), ('package_kind', '=', package_kind)]",
    )
    list_price = fields.Float(related="package_id.list_price", string="Price")

    @api.depends("partner_id", "package_kind", "company_id")
    def _compute_package_id(self):
        for wizard in self:
            # Renewal proposes the package of the customer's latest subscription.
            latest = self.env["credit.grant"].search(
                [
                    ("partner_id", "=", wizard.partner_id.commercial_partner_id.id),
                    ("company_id", "=", wizard.company_id.id),
                    ("package_kind", "=", wizard.package_kind),
                ],
                order="date_expiry desc, id desc",
                limit=1,
            )
            wizard.package_id = latest.package_id if latest.package_id.active else False

    def action_create_invoice(self):
        self.ensure_one()
        return self.partner_id._credit_create_package_invoice(self.package_id)
