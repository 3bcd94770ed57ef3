from odoo import api, models


class AccountMove(models.Model):
    """Telling the customer about a new plan, from every path that makes one."""

    _inherit = "account.move"

    @api.returns("installment.plan", lambda plan: plan.id)
    def create_installment_plan(self, *args, notify_customer=False, **kwargs):
        """See the base method; ``notify_customer=True`` also emails the
        customer the schedule (template *Installments: schedule to the
        customer*, the schedule PDF attached). Off by default for API callers."""
        plan = super().create_installment_plan(*args, **kwargs)
        if notify_customer:
            plan._notify_customer_created()
        return plan

    def _installment_create_plan(self, values):
        plan = super()._installment_create_plan(values)
        plan._history_record_replacements()
        return plan

    def _installment_plans_from_terms(self):
        plans = super()._installment_plans_from_terms()
        plans._history_record_replacements()
        plans.filtered(
            lambda plan: plan.company_id.installment_notify_terms
        )._notify_customer_created()
        return plans
