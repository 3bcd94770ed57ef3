# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.account_move import OVERRIDE_LIMIT_KEY


class BillingLimitOverride(models.TransientModel):
    _name = "billing.limit.override"
    _description = "Post invoices beyond the credit limit"

    move_ids = fields.Many2many("account.move", required=True)
    message = fields.Text(readonly=True)
    reason = fields.Text(help="Why the limit is exceeded; logged on each invoice.")

    def action_confirm(self):
        """Post the invoices despite the credit limit and log the reason.

        :raise AccessError: the user is not an Installments & Credits manager
        :raise UserError: no reason was given
        """
        self.ensure_one()
        if not self.env.user.has_group("installment_credit.group_installment_manager"):
            raise AccessError(
                _("Only Installments & Credits managers can override credit limits.")
            )
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(_("Give the reason for exceeding the credit limit."))
        moves = self.move_ids.filtered(lambda move: move.state == "draft")
        for move in moves:
            move.message_post(
                body=Markup("%s<br/>%s<br/>%s")
                % (
                    _(
                        "Credit limit overridden by %(user)s.",
                        user=self.env.user.name,
                    ),
                    _("Reason: %(reason)s", reason=reason),
                    self.message or "",
                )
            )
        moves.with_context(**{OVERRIDE_LIMIT_KEY: True}).action_post()
        return {"type": "ir.actions.act_window_close"}
