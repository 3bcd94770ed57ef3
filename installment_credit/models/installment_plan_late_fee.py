from odoo import _, api, fields, models


class InstallmentPlan(models.Model):
    """Late fees charged on a plan's installments (see ``installment.late.fee``)."""

    _inherit = "installment.plan"

    late_fee_ids = fields.One2many(
        "installment.late.fee", "plan_id", string="Late Fees", readonly=True
    )
    late_fee_move_ids = fields.One2many(
        "account.move",
        "installment_fee_plan_id",
        string="Late Fee Invoices",
        readonly=True,
    )
    late_fee_count = fields.Integer(compute="_compute_late_fee_totals")
    amount_late_fees = fields.Monetary(
        string="Late Fees Charged",
        compute="_compute_late_fee_totals",
        help="Fees charged on this plan's late installments, before taxes.",
    )

    @api.depends("late_fee_ids.amount")
    def _compute_late_fee_totals(self):
        totals = {
            plan.id: (count, amount)
            for plan, count, amount in self.env["installment.late.fee"]._read_group(
                [("plan_id", "in", self.ids)], ["plan_id"], ["__count", "amount:sum"]
            )
        }
        for plan in self:
            plan.late_fee_count, plan.amount_late_fees = totals.get(plan.id, (0, 0.0))

    def action_open_late_fee_invoices(self):
        """The fee invoices of this plan."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action.update(
            name=_("Late Fee Invoices"),
            domain=[("installment_fee_plan_id", "=", self.id)],
            context={"default_move_type": "out_invoice", "create": False},
        )
        return action


class InstallmentPlanLine(models.Model):
    _inherit = "installment.plan.line"

    late_fee_ids = fields.One2many(
        "installment.late.fee", "plan_line_id", string="Late Fees", readonly=True
    )

    def _on_installments_late(self):
        """Charge the late fees that fell due before the reminders go, so that
        the reminder emails of this run mention them. A customer whose fee
        fails is skipped (see ``installment.late.fee.run``); the run is
        reported as failed after the reminders were sent."""
        failures = self.env["installment.late.fee.run"]._cron_charge_late_fees()
        result = super()._on_installments_late()
        self.env["installment.batch.guard"]._raise_if_skipped(failures, _("Late fees"))
        return result
