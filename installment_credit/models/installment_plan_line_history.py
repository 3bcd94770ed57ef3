from odoo import api, fields, models
from odoo.tools import format_date

# Set while an outer write of amounts or due dates is being recorded: the
# writes it makes itself (the edit, the rebalanced installments) are part of
# the same change and are diffed once, by the outer write.
HISTORY_OPEN_KEY = "installment_history_open"


class InstallmentPlanLine(models.Model):
    """The change history of a schedule, written by the ORM paths that change
    installments: amounts and due dates (every writer, RPC included, goes
    through ``write``), installments added to and removed from a plan."""

    _inherit = "installment.plan.line"

    payment_reference_label = fields.Char(
        related="plan_id.payment_reference_label", string="Payment Reference"
    )

    def _history_snapshot(self):
        return {line: (line.amount, line.due_date) for line in self}

    def _history_label(self, amount=None, due_date=None):
        self.ensure_one()
        amount = self.amount if amount is None else amount
        due_date = due_date or self.due_date
        return "%s %s" % (
            format_date(self.env, due_date),
            self.currency_id.format(amount),
        )

    def write(self, vals):
        if (
            not {"amount", "due_date"} & set(vals)
            or self.env.context.get(HISTORY_OPEN_KEY)
            or not self
        ):
            return super().write(vals)
        plans = self.plan_id
        before = plans.line_ids._history_snapshot()
        result = super(
            InstallmentPlanLine, self.with_context(**{HISTORY_OPEN_KEY: True})
        ).write(vals)
        plans._history_record_edits(before)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        # Installments made with their plan are its schedule, not a change.
        created = set(lines._ids)
        added = lines.filtered(
            lambda line: any(i not in created for i in line.plan_id.line_ids._ids)
        )
        if added:
            self.env["installment.plan.change"]._record(
                [
                    {
                        "plan_id": line.plan_id.id,
                        "kind": "added",
                        "line_id": line.id,
                        "position": line._get_position(),
                        "new_value": line._history_label(),
                    }
                    for line in added.sorted()
                ]
            )
        return lines

    def unlink(self):
        removed = self.filtered(lambda line: line.plan_id.state != "cancelled")
        vals_list = [
            {
                "plan_id": line.plan_id.id,
                "kind": "removed",
                "position": line._get_position(),
                "old_value": line._history_label(),
            }
            for line in removed.sorted()
        ]
        result = super().unlink()
        self.env["installment.plan.change"]._record(vals_list)
        return result
