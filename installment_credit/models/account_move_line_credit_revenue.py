# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _compute_account_id(self):
        """Lines selling a credit package post to the deferred revenue account
        when their company recognises credit revenue on use (Odoo's income
        account becomes the account recognised into, see credit.grant)."""
        res = super()._compute_account_id()
        lines = self.filtered(
            lambda line: (
                line.display_type == "product"
                and line.product_id
                and line.move_id.is_sale_document(include_receipts=True)
                and line.company_id.credit_revenue_on_use
            )
        )
        if lines:
            by_product = self.env["credit.package"]._by_product(lines.product_id)
            for line in lines:
                package = by_product.get(line.product_id)
                account = package and package._revenue_deferred_account()
                if account:
                    line.account_id = account
        return res
