from odoo import api, models


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
        for move in moves:
            # one UPDATE per invoice, only for those without a token yet
            move._portal_ensure_token()
        return plans
