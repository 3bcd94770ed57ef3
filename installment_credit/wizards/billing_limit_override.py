# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class BillingLimitOverride(models.TransientModel):
    _name = "billing.limit.override"
    _description = "Post invoices beyond the credit limit"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    message = fields.Text(readonly=True)
    reason = fields.Text(help="Why the limit is exceeded; logged on each invoice.")

    def action_confirm(self):
        """Post the invoices despite the credit limit, logging the reason
        (``account.move.action_post_override_limit``).

        :raise AccessError: the user is not an Installments & Credits manager
        :raise UserError: no reason was given
        """
        self.ensure_one()
        self.move_ids.action_post_override_limit(self.reason)
        return {"type": "ir.actions.act_window_close"}
