# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class CreditPackage(models.Model):
    _inherit = "credit.package"

    deferred_account_id = fields.Many2one(
        "account.account",
        string="Deferred revenue account",
        check_company=True,
        domain="[('account_type', 'in', "
        "('liability_current', 'liability_non_current'))]",
        help="When the company recognises credit revenue on use, invoice lines "
        "selling this package post here instead of the company's deferred "
        "credit revenue account.",
    )

    def _revenue_deferred_account(self):
        """The account package lines post to when the company recognises
        credit revenue on use, else an empty recordset."""
        self.ensure_one()
        company = self.company_id
        if not company.credit_revenue_on_use:
            return self.env["account.account"]
        return self.deferred_account_id or company.credit_deferred_account_id
