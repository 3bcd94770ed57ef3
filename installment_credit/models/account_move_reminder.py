from odoo import _, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

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
