from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        # Every way an invoice stops being paid removes a reconciliation:
        # unreconcile, a payment cancelled or reset to draft, a statement line
        # unmatched. Odoo has no "unpaid" hook; this is its one path.
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        res = super().unlink()
        moves.exists()._credit_withdraw_unpaid()
        return res
