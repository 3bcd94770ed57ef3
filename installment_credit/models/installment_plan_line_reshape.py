from odoo import api, models

from .installment_plan import is_plan_service

# What a user's create of an installment may carry (the plan form's editable
# list sends these): it becomes ``installment.plan.add_installment``.
ADDABLE_FIELDS = frozenset({"plan_id", "due_date", "amount", "sequence", "is_manual"})


class InstallmentPlanLine(models.Model):
    """Users add and delete installments through the plan service
    (``installment.plan.add_installment``, ``_remove_installments``), from the
    plan form's list or over RPC alike."""

    _inherit = "installment.plan.line"

    def _is_settled(self):
        """Paid, partly paid or credited: it keeps its place in the schedule."""
        self.ensure_one()
        currency = self.currency_id
        return (
            self.state == "paid"
            or not currency.is_zero(self.amount_paid)
            or not currency.is_zero(self.amount_reduced)
        )

    @api.model_create_multi
    def create(self, vals_list):
        if is_plan_service(self) or any(
            not vals.get("plan_id") or set(vals) - ADDABLE_FIELDS for vals in vals_list
        ):
            return super().create(vals_list)  # the guard refuses the latter
        added = self.browse()
        for vals in vals_list:
            plan = self.env["installment.plan"].browse(vals["plan_id"])
            added |= plan.add_installment(vals.get("due_date"), vals.get("amount"))
        return added

    def unlink(self):
        if is_plan_service(self) or not self:
            return super().unlink()
        return self.plan_id._remove_installments(self)
