# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _credit_cancel_refunded(self):
        """Date the deferred value the credit notes take back with each credit
        note (see ``credit.grant._take_back``)."""
        refunds = self.filtered(lambda m: m._credit_package_lines())
        if len(refunds) <= 1:
            date = refunds.date
            return super(
                AccountMove, self.with_context(credit_revenue_date=date)
            )._credit_cancel_refunded()
        # The one lock order: every partner first, then each refund's grants.
        self.env["credit.grant"]._lock_partners(refunds.commercial_partner_id)
        for refund in refunds:
            super(
                AccountMove, refund.with_context(credit_revenue_date=refund.date)
            )._credit_cancel_refunded()
        return None
