from odoo import api, models
from odoo.tools import SQL


class InstallmentPlan(models.Model):
    """The portal's installments page is served read-only (from the replica
    when there is one): everything it shows must already be written. It
    links each plan to its invoice's portal URL, which carries the invoice's
    access token; the token is minted when the plan is made, not on the
    first view (a write in a read-only request makes Odoo run it again on a
    read/write cursor)."""

    _inherit = "installment.plan"

    @api.model_create_multi
    def create(self, vals_list):
        plans = super().create(vals_list)
        moves = plans.move_id.filtered(lambda move: not move.access_token)
        if moves:
            # One statement for the whole batch (posting many invoices with an
            # installment term makes many plans): the token is a random uuid
            # as portal.mixin's, and nothing depends on it, so no ORM write
            # (an account.move write runs the whole invoice machinery).
            moves.flush_recordset(["access_token"])
            self.env.cr.execute(
                SQL(
                    "UPDATE account_move SET access_token = gen_random_uuid()::text "
                    "WHERE id IN %s AND access_token IS NULL",
                    tuple(moves.ids),
                )
            )
            moves.invalidate_recordset(["access_token"])
        return plans
