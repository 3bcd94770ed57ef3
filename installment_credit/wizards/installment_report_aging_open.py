from odoo import _, fields, models
from odoo.tools import format_date


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
        # The web client titles the view (breadcrumb, pivot export) with the
        # action's display name before its name: both carry the date.
        action["name"] = action["display_name"] = _(
            "Receivables Aging as of %s", format_date(self.env, self.date)
        )
        action["context"] = {
            "installment_aging_date": fields.Date.to_string(self.date),
        }
        action["target"] = "main"
        return action
