from odoo import models

from .installment_reminder_log import ReminderFormatter


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _installment_reminder_items_compute(self, raw_payload, extra=()):
        """Add ``fees`` to each customer's reminder items: the late fees
        charged on the plans the email is about (``label`` of the installment,
        ``period``, ``date``, ``amount``, ``invoice``), read for the whole
        batch at once."""
        result = super()._installment_reminder_items_compute(raw_payload, extra)
        payload = dict(raw_payload)
        log_ids = [log_id for partner in self for log_id in payload.get(partner.id, ())]
        plans = self.env["installment.reminder.log"].browse(log_ids).plan_id
        lines = self.env["installment.plan.line"].browse(
            [
                res_id
                for partner in self
                for model, res_id in dict(extra).get(partner.id, ())
                if model == "installment.plan.line"
            ]
        )
        plans |= lines.plan_id
        fees = (
            self.env["installment.late.fee"]
            .search([("plan_id", "in", plans.ids)], order="date, id")
            .filtered("fee_move_id")
            if plans
            else self.env["installment.late.fee"]
        )
        per_partner = {}
        for fee in fees:
            per_partner.setdefault(fee.partner_id.id, []).append(fee)
        labels = self.env["installment.reminder.log"]._plan_line_labels(
            fees.plan_line_id
        )
        formatters = {}
        for partner in self:
            lang = partner.lang or self.env.lang
            fmt = formatters.setdefault(lang, ReminderFormatter(self.env, lang))
            result[partner.id]["fees"] = [
                {
                    "label": labels.get(fee.plan_line_id.id, fee.display_name),
                    "period": fee.period,
                    "date": fmt.date(fee.date),
                    "amount": fmt.amount(fee.amount, fee.currency_id),
                    "invoice": fee.fee_move_id.name,
                }
                for fee in per_partner.get(partner.id, ())
            ]
        return result
