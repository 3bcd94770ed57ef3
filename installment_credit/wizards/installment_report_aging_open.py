from odoo import _, fields, models


class InstallmentReportAgingOpen(models.TransientModel):
    _name = "installment.report.aging.open"
    _description = "Open the Receivables Aging at a Date"

    date = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="Amounts and ages are computed as they stood at the end of this day.",
    )

    def action_open(self):
        """Open the aging report computed as of the chosen date."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_report_aging_action"
        )
        action["name"] = _(
            "Receivables Aging as of %s",
            fields.Date.to_string(self.date),
        )
        action["context"] = {
            "installment_aging_date": fields.Date.to_string(self.date),
        }
        action["target"] = "main"
        return action
