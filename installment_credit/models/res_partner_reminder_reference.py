from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _installment_reminder_items_compute(self, raw_payload, extra=()):
        """Also ``references``: per invoice a reminder lists, the payment
        reference the customer quotes when paying (``document``,
        ``reference``), or a sentence saying the invoice has none."""
        result = super()._installment_reminder_items_compute(raw_payload, extra)
        payload, extras = dict(raw_payload), dict(extra)
        Log = self.env["installment.reminder.log"]
        all_logs = Log.browse([i for ids in payload.values() for i in ids])
        extra_refs = [ref for refs in extras.values() for ref in refs]
        lines = self.env["installment.plan.line"].browse(
            [res_id for model, res_id in extra_refs if model == "installment.plan.line"]
        )
        no_reference = self.env._("No payment reference")
        for partner in self:
            if partner.id not in result:
                continue
            moves = (
                all_logs.browse(payload.get(partner.id, ()))
                .with_prefetch(all_logs.ids)
                .move_id
            )
            for model, res_id in extras.get(partner.id, ()):
                if model == "installment.plan.line":
                    moves |= lines.browse(res_id).move_id
                else:
                    moves |= self.env["account.move"].browse(res_id)
            result[partner.id]["references"] = [
                {
                    "document": move.name,
                    "reference": move.payment_reference or no_reference,
                }
                for move in moves.sorted("name")
            ]
        return result
