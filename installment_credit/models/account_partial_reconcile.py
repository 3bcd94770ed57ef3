from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        # Unreconciling a prepaid customer's payment or settlement changes what
        # their balance may spend: the same partner lock as settlement and
        # withdrawal (partners first), so that a concurrent posting serializes.
        (self.debit_move_id | self.credit_move_id)._billing_lock_prepaid_partners()
        # Every way an invoice stops being paid removes a reconciliation:
        # unreconcile, a payment cancelled or reset to draft, a statement line
        # unmatched. Odoo has no "unpaid" hook; this is its one path.
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        res = super().unlink()
        moves.exists()._credit_withdraw_unpaid()
        return res
