# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


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
