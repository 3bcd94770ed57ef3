"""Installment schedules on payment terms, on the invoice's side.

A payment term with an installment scheme computes the invoice's receivable
lines (``account.payment.term``); at posting, the invoice's plan mirrors
them (same dates, same amounts). The posting order is in ``account_move.py``.
"""

from odoo import _, fields, models

from .installment_plan import plan_service


class AccountMove(models.Model):
    _inherit = "account.move"

    def _installment_check_term_schedules(self):
        """Invoices whose payment term has an installment scheme; refuses,
        before anything is posted, when the scheme's absolute dates are stale
        for the invoice date.

        :return: those invoices (their plans are made once they are posted)
        """
        scheduled = self.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.invoice_payment_term_id.installment_enabled
            )
        )
        for move in scheduled:
            move.invoice_payment_term_id._installment_check_dates(
                move.invoice_date or fields.Date.context_today(move)
            )
        return scheduled

    def _installment_plans_from_terms(self):
        """Mirror the receivable lines computed by the payment terms' schemes
        into installment plans (same dates, same amounts), in one batch.

        Posting logs itself on the invoice; the automatic plans are created
        without chatter noise (no creation note, no follower, no tracking).
        Nothing can be settled yet on an invoice being posted, so the stored
        totals and statuses are known: they are written with the records and
        spared their recomputation (the costliest part of creating a plan).
        Later payments and credit notes recompute them as usual.
        """
        plan_vals_list, schedules = [], []
        for move in self:
            currency = move.currency_id
            if move.installment_plan_id or currency.is_zero(move.amount_residual):
                continue
            amounts = {}
            for line in move.line_ids:
                if line.display_type == "payment_term":
                    amounts.setdefault(line.date_maturity, 0.0)
                    amounts[line.date_maturity] += line.amount_residual_currency
            values = [
                (due, currency.round(amount))
                for due, amount in sorted(amounts.items())
                if currency.compare_amounts(amount, 0) > 0
            ]
            move._installment_check_total(
                values,
                _(
                    "The payment term of %(invoice)s splits %(sum)s but %(due)s "
                    "is due: check the payment term's lines."
                ),
            )
            plan_vals, line_vals_list = move._installment_plan_vals(values, fresh=True)
            plan_vals["source"] = "payment_term"
            plan_vals_list.append(plan_vals)
            schedules.append(line_vals_list)
        Plan = plan_service(self.env["installment.plan"]).with_context(
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            tracking_disable=True,
        )
        Line = plan_service(self.env["installment.plan.line"])
        # A plan cancelled earlier in this transaction (reset to draft) must
        # be cancelled in the database before the new one is inserted as
        # active: one active plan per invoice is also a unique index.
        Plan.flush_model(["state"])
        plans = Plan.create(plan_vals_list)
        lines = Line.create(
            [
                dict(vals, plan_id=plan.id)
                for plan, plan_lines in zip(plans, schedules, strict=True)
                for vals in plan_lines
            ]
        )
        for model, records, names in (
            (Plan, plans, plan_vals_list[0] if plan_vals_list else ()),
            (Line, lines, schedules[0][0] if schedules else ()),
        ):
            for name in names:
                field = model._fields[name]
                if field.compute:
                    self.env.remove_to_compute(field, records)
        return plans.with_env(self.env)
