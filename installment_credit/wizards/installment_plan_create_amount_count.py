from odoo import api, fields, models

from ..tools import schedule


class InstallmentPlanCreate(models.TransientModel):
    """The wizard's "Amount and number" mode: both are used, never one
    silently ignored. When they do not add up to what is due, the preview
    says by how much and the user either corrects them or lets the last
    installment take the difference (``remainder='last'`` of
    ``account.move.create_installment_plan``)."""

    _inherit = "installment.plan.create"

    mode = fields.Selection(
        selection_add=[("count_amount", "Amount and number")],
        ondelete={"count_amount": "set default"},
    )
    remainder_last = fields.Boolean(
        string="Last installment takes the difference",
        help="The number of installments times their amount differs from what "
        "is due: the last installment is that much larger or smaller.",
    )
    amount_difference = fields.Monetary(
        string="Difference",
        compute="_compute_amount_difference",
        help="What is due minus the number of installments times their amount.",
    )

    @api.depends("mode", "count", "installment_amount", "amount_due")
    def _compute_amount_difference(self):
        for wizard in self:
            wizard.amount_difference = 0.0
            if wizard.mode != "count_amount" or not wizard.currency_id:
                continue
            try:
                _parts, difference = schedule.split_count_amount(
                    wizard.amount_due,
                    wizard.count,
                    wizard.installment_amount,
                    wizard.currency_id.round,
                )
            except schedule.ScheduleError:
                continue
            wizard.amount_difference = difference

    def _schedule_kwargs(self):
        if self.mode != "count_amount":
            return super()._schedule_kwargs()
        return dict(
            super()._schedule_kwargs(),
            count=self.count,
            installment_amount=self.installment_amount,
            remainder="last" if self.remainder_last else None,
        )

    @api.depends(
        "mode",
        "count",
        "installment_amount",
        "interval_number",
        "interval_unit",
        "first_due_date",
        "line_ids.due_date",
        "line_ids.amount",
        "remainder_last",
    )
    def _compute_preview(self):
        return super()._compute_preview()
