"""What Odoo's own screens say about an invoice with an installment plan.

The plan is an overlay on the invoice, but the invoice's due date, its
lists and filters follow it: the invoice is due on the plan's last
installment (as Odoo does for multi-installment payment terms) and is
overdue as soon as an installment is late.
"""

from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    installment_next_due_date = fields.Date(
        string="Next Due Date",
        compute="_compute_installment_next_due_date",
        store=True,
        index="btree_not_null",
        help="Due date of the earliest installment not paid yet; in the past "
        "when an installment is late (the invoice is then overdue).",
    )

    @api.depends("installment_plan_ids.state", "installment_plan_ids.next_due_date")
    def _compute_installment_next_due_date(self):
        # The plan's next due date is its first unpaid installment's: the
        # daily late flip changes no paid/unpaid status, so this stays right
        # without it, and "overdue" is a date comparison like Odoo's own.
        for move in self:
            plan = move.installment_plan_ids.filtered(lambda p: p.state == "active")[:1]
            move.installment_next_due_date = plan.next_due_date

    @api.depends("installment_plan_ids.state", "installment_plan_ids.line_ids.due_date")
    def _compute_invoice_date_due(self):
        """The due date of an invoice with a plan is the plan's last
        installment, whoever made the plan; once its plan is cancelled, it
        is the latest date of maturity of its receivable lines again."""
        planned = self.env["account.move"]
        for move in self:
            plan = move.installment_plan_ids.filtered(lambda p: p.state != "cancelled")
            dates = plan[:1].line_ids.mapped("due_date")
            if not dates and move.installment_plan_ids and move.state == "posted":
                # Odoo's own rule for a posted invoice, read from its lines:
                # needed_terms of an invoice without payment term would
                # return the plan's date it is replacing.
                dates = [
                    line.date_maturity
                    for line in move.line_ids
                    if line.display_type == "payment_term" and line.date_maturity
                ]
            if dates:
                move.invoice_date_due = max(dates)
                planned |= move
        return super(AccountMove, self - planned)._compute_invoice_date_due()
