# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    credit_availability = fields.Selection(
        [("posted", "When the invoice is posted"), ("paid", "When it is paid")],
        string="Credits usable",
        default="posted",
        required=True,
        help="When the units of a credit package sold on a customer invoice can be "
        "consumed.",
    )
    credit_expiry_notice_days = fields.Integer(
        string="Expiry notice (days)",
        default=7,
        help="Customers get one email per grant this many days before it expires "
        "(0: no email).",
    )

    @api.constrains("credit_expiry_notice_days")
    def _check_credit_expiry_notice_days(self):
        for company in self:
            if company.credit_expiry_notice_days < 0:
                raise ValidationError(
                    _(
                        "The credit expiry notice of %(company)s must be zero (no "
                        "email) or a number of days before expiry.",
                        company=company.name,
                    )
                )
