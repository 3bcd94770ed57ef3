from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    installment_can_send_reminder = fields.Boolean(
        compute="_compute_installment_can_send_reminder",
        help="Send Reminder Now applies: an open customer invoice with an active "
        "installment plan, or of a postpaid customer.",
    )

    @api.depends(
        "move_type",
        "state",
        "amount_residual",
        "installment_plan_ids.state",
        "commercial_partner_id",
    )
    @api.depends_context("company")
    def _compute_installment_can_send_reminder(self):
        for move in self:
            plan = move.installment_plan_id
            if plan:
                move.installment_can_send_reminder = plan.state == "active"
                continue
            partner = move.commercial_partner_id.with_company(move.company_id)
            move.installment_can_send_reminder = (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.currency_id.compare_amounts(move.amount_residual, 0) > 0
                and partner.billing_mode != "prepaid"
            )

    def action_send_installment_reminder(self):
        """Send the next applicable reminder for this invoice now: its plan's
        installments if it has one, else the invoice itself."""
        self.ensure_one()
        if self.installment_plan_id:
            return self.installment_plan_id.action_send_reminder()
        if (
            self.move_type != "out_invoice"
            or self.state != "posted"
            or self.currency_id.compare_amounts(self.amount_residual, 0) <= 0
        ):
            raise UserError(
                _(
                    "%s is not an open customer invoice: there is nothing to remind.",
                    self.display_name,
                )
            )
        partner = self.commercial_partner_id
        if partner.billing_mode == "prepaid":
            raise UserError(
                _(
                    "%s is a prepaid customer: invoice reminders are for postpaid "
                    "customers.",
                    partner.display_name,
                )
            )
        reminders = self.env["installment.reminder.run"]
        logs = reminders._send_now(partner, invoices=self)
        return reminders._send_now_notification(logs)
