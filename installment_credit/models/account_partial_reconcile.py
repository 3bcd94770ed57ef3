from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        # Unreconciling a prepaid customer's payment or settlement changes what
        # their balance may spend: the same partner lock as settlement and
        # withdrawal (partners first), so that a concurrent posting serializes.
        self._billing_lock_prepaid_partners()
        # Every way an invoice stops being paid removes a reconciliation:
        # unreconcile, a payment cancelled or reset to draft, a statement line
        # unmatched. Odoo has no "unpaid" hook; this is its one path.
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        res = super().unlink()
        moves.exists()._credit_withdraw_unpaid()
        return res

    def _billing_lock_prepaid_partners(self):
        lines = self.debit_move_id | self.credit_move_id
        partner_ids = set()
        for company, company_lines in lines.sudo().grouped("company_id").items():
            partner_ids.update(
                company_lines.partner_id.commercial_partner_id.with_company(company)
                .filtered(lambda p: p.billing_mode == "prepaid")
                .ids
            )
        self.env["res.partner"].browse(sorted(partner_ids))._billing_lock()
