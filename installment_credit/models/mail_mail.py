from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def write(self, vals):
        res = super().write(vals)
        # The send log of reminders follows the mail queue: queued, sent, failed.
        if "state" in vals or "failure_reason" in vals:
            self.env["installment.reminder.log"].sudo()._sync_delivery_state(self.ids)
        return res
