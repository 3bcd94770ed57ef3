from odoo import fields, models
from odoo.tools import format_amount, format_date


class InstallmentPlan(models.Model):
    """What the customer should pay now: the one proposal every payment
    screen reads (Register Payment, the portal's Pay)."""

    _inherit = "installment.plan"

    def _get_payment_proposal(self, date=None):
        """What the customer should pay now, for every screen that proposes a
        payment (Register Payment, the portal's Pay): the late installments
        and those due by ``date``, else the next installment.

        :return: dict with ``amount`` (plan currency), ``mode`` (``overdue``
            when something is due by ``date``, else ``next``), ``due_date``
            (of the first installment proposed), ``is_last`` (a single
            installment is left to pay), ``amount_late`` and ``late_since``
            (what is due before ``date``, from which date), ``amount_due_today``
            (due on ``date``) and ``label``, the one sentence every screen
            shows for it ("Due now: 1,000.00 — 500.00 late since 10/30/2026,
            500.00 due today", or "Next installment: 500.00 on 12/30/2026")
        """
        self.ensure_one()
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        currency = self.currency_id
        open_lines = self.line_ids.filtered(lambda line: line.state != "paid").sorted()
        due = open_lines.filtered(lambda line: line.due_date <= date)
        late = due.filtered(lambda line: line.due_date < date)
        amount_late = currency.round(sum(late.mapped("amount_residual")))
        amount_today = currency.round(sum((due - late).mapped("amount_residual")))
        if due:
            amount = currency.round(amount_late + amount_today)
        else:
            amount = open_lines[:1].amount_residual
        due_date = (due or open_lines)[:1].due_date
        return {
            "amount": amount,
            "mode": "overdue" if due else "next",
            "due_date": due_date,
            "is_last": len(open_lines) <= 1,
            "amount_late": amount_late,
            "late_since": late[:1].due_date,
            "amount_due_today": amount_today,
            **self._payment_proposal_label(
                amount, due, amount_late, late[:1].due_date, amount_today, due_date
            ),
        }

    def _payment_proposal_label(
        self, amount, due, amount_late, late_since, amount_today, due_date
    ):
        """``label`` and ``detail`` (the label without its figure) of a
        payment proposal, formatted in the user's language."""
        env, currency = self.env, self.currency_id
        if not due:
            if not due_date:
                return {"label": "", "detail": ""}
            detail = env._("on %s", format_date(env, due_date))
            return {
                "label": env._(
                    "Next installment: %(amount)s %(detail)s",
                    amount=format_amount(env, amount, currency),
                    detail=detail,
                ),
                "detail": detail,
            }
        parts = []
        if not currency.is_zero(amount_late):
            parts.append(
                env._(
                    "%(amount)s late since %(date)s",
                    amount=format_amount(env, amount_late, currency),
                    date=format_date(env, late_since),
                )
            )
        if not currency.is_zero(amount_today):
            parts.append(
                env._(
                    "%(amount)s due today",
                    amount=format_amount(env, amount_today, currency),
                )
            )
        detail = ", ".join(parts)
        return {
            "label": env._(
                "Due now: %(amount)s — %(detail)s",
                amount=format_amount(env, amount, currency),
                detail=detail,
            ),
            "detail": detail,
        }
