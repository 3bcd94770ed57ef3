from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from .installment_plan import plan_service


class InstallmentPlan(models.Model):
    """Reshaping an active plan: adding an installment, deleting an unpaid
    one, and re-ordering the schedule when a due date moves past its
    neighbours. The unpaid installments nobody edited by hand absorb the
    difference, with the rule of amount edits (``_rebalance_after_edit``);
    what was paid stays where it is."""

    _inherit = "installment.plan"

    @api.returns("installment.plan.line", lambda line: line.id)
    def add_installment(self, due_date, amount=None):
        """Add an installment due on ``due_date`` to this active plan.

        :param due_date: a ``date`` or ``YYYY-MM-DD``
        :param amount: its amount (it is then marked as edited by hand); the
            unpaid installments not edited by hand give it, evenly. Without
            an amount (or 0) it takes an even share of what they hold.
        :return: the new installment (its id over XML-RPC/JSON-RPC)
        :raise UserError: the plan is not active, the date is missing or
            before an installment already paid, or nothing can absorb the
            amount; nothing is written
        """
        self.ensure_one()
        self._check_reshape_allowed()
        currency = self.currency_id
        due_date = self.move_id._installment_to_date(due_date)
        if not due_date:
            raise UserError(_("An installment needs a due date."))
        lines = self.line_ids.sorted()
        flexible = lines.filtered(
            lambda rec: not rec.is_manual and not rec._is_settled()
        )
        given = amount not in (None, False) and not currency.is_zero(amount)
        if given:
            new_amount = currency.round(amount)
            if currency.compare_amounts(new_amount, 0) < 0:
                raise UserError(
                    _(
                        "A new installment of %(plan)s must be positive (got "
                        "%(amount)s); leave its amount at 0 for an even share.",
                        plan=self.display_name,
                        amount=currency.format(new_amount),
                    )
                )
        elif flexible:
            new_amount = currency.round(
                sum(flexible.mapped("amount")) / (len(flexible) + 1)
            )
        else:
            raise UserError(
                _(
                    "No installment of %(plan)s can give an amount to a new "
                    "installment: every one is paid or was edited by hand. Give "
                    "the new installment an amount and lower another unpaid "
                    "installment by as much first.",
                    plan=self.display_name,
                )
            )
        # After every installment due on or before that day.
        position = len(lines.filtered(lambda rec: rec.due_date <= due_date))
        later_settled = lines[position:].filtered(lambda rec: rec._is_settled())
        if later_settled:
            raise UserError(
                _(
                    "An installment of %(plan)s cannot be due on %(date)s, before "
                    "installment %(seq)s (%(other_date)s), which has already been "
                    "paid or credited: payments fill installments in date order. "
                    "Choose a date on or after %(other_date)s.",
                    plan=self.display_name,
                    date=format_date(self.env, due_date),
                    seq=later_settled[0]._get_position(),
                    other_date=format_date(self.env, later_settled[0].due_date),
                )
            )
        with self.env.cr.savepoint():
            self._write_sequences(
                list(lines[:position]) + [None] + list(lines[position:])
            )
            new = (
                plan_service(self.env["installment.plan.line"])
                .with_context(installment_skip_sum_check=True)
                .create(
                    {
                        "plan_id": self.id,
                        "due_date": due_date,
                        "amount": new_amount,
                        "sequence": position + 1,
                        "is_manual": given,
                    }
                )
            )
            rebalanced = self._rebalance_after_edit(new, new_amount, flexible)
            changes = [
                (
                    new,
                    _("added"),
                    "—",
                    "%s, %s"
                    % (format_date(self.env, due_date), currency.format(new_amount)),
                )
            ]
            changes += self._write_rebalanced(rebalanced)
            self._check_lines_sum()
            self._post_edit_message(changes)
        # Not in the plan service's environment: the caller's own.
        return new.with_env(self.env)

    def _remove_installments(self, lines):
        """Delete the unpaid installments ``lines`` (the path of their
        ``unlink``): the unpaid installments not edited by hand absorb their
        amounts. Refused, with nothing written, when one is paid or nothing
        can absorb its amount."""
        for plan in lines.plan_id:
            removed = lines.filtered(lambda rec, p=plan: rec.plan_id == p).sorted()
            with self.env.cr.savepoint():
                plan._check_reshape_allowed()
                for line in removed:
                    line._check_editable()
                flexible = (
                    plan.line_ids.filtered(
                        lambda rec: not rec.is_manual and not rec._is_settled()
                    )
                    - removed
                )
                currency = plan.currency_id
                for line in removed:
                    rebalanced = plan._rebalance_after_edit(line, 0.0, flexible)
                    changes = [
                        (
                            line,
                            _("removed"),
                            "%s, %s"
                            % (
                                format_date(self.env, line.due_date),
                                currency.format(line.amount),
                            ),
                            "—",
                        )
                    ]
                    changes += plan._write_rebalanced(rebalanced)
                    plan._post_edit_message(changes)
                    plan_service(line).unlink()
                plan._write_sequences(plan.line_ids.sorted())
                plan._check_lines_sum()
        return True

    def _reorder_for_due_date(self, line, new_date):
        """Move ``line`` to ``new_date`` and re-order the schedule by date
        (an installment keeps its place among those due the same day). It may
        not pass an installment already paid or credited: payments fill
        installments in order, so what was paid would move.

        :return: the chatter change of its position, if it moved
        """
        self.ensure_one()
        lines = list(self.line_ids.sorted())
        old_index = lines.index(line)
        for index, other in enumerate(lines):
            if other == line or not other._is_settled():
                continue
            if (index < old_index and new_date < other.due_date) or (
                index > old_index and new_date > other.due_date
            ):
                raise UserError(
                    _(
                        "Installment %(seq)s of %(plan)s cannot move to %(date)s, "
                        "past installment %(other)s (%(other_date)s), which has "
                        "already been paid or credited: payments fill "
                        "installments in date order. Choose a date that does not "
                        "pass it.",
                        seq=old_index + 1,
                        plan=self.display_name,
                        date=format_date(self.env, new_date),
                        other=index + 1,
                        other_date=format_date(self.env, other.due_date),
                    )
                )
        ordered = [
            rec
            for _key, rec in sorted(
                (((new_date if rec == line else rec.due_date), index), rec)
                for index, rec in enumerate(lines)
            )
        ]
        new_index = ordered.index(line)
        self._write_sequences([None if rec == line else rec for rec in ordered])
        plan_service(line).with_context(installment_skip_sum_check=True).write(
            {"due_date": new_date, "sequence": new_index + 1}
        )
        if new_index == old_index:
            return []
        return [(line, _("position"), old_index + 1, new_index + 1)]

    def _write_sequences(self, ordered):
        """Number the installments ``ordered`` 1, 2, … (``None`` keeps a place
        for one written by the caller); the schedule is checked afterwards."""
        for sequence, line in enumerate(ordered, start=1):
            if line and line.sequence != sequence:
                plan_service(line).with_context(
                    installment_skip_schedule_check=True
                ).write({"sequence": sequence})

    def _write_rebalanced(self, rebalanced):
        """Write the amounts ``_rebalance_after_edit`` gave; returns the
        chatter changes."""
        self.ensure_one()
        currency = self.currency_id
        changes = []
        for other, amount in rebalanced.items():
            if currency.compare_amounts(other.amount, amount):
                changes.append(
                    (
                        other,
                        _("amount (rebalanced)"),
                        currency.format(other.amount),
                        currency.format(amount),
                    )
                )
                plan_service(other).with_context(installment_skip_sum_check=True).write(
                    {"amount": amount}
                )
        return changes

    def _check_reshape_allowed(self):
        self.ensure_one()
        if self.state != "active":
            raise UserError(
                _(
                    "%(plan)s is %(state)s: installments can only be added to or "
                    "removed from an active plan.",
                    plan=self.display_name,
                    state=dict(self._fields["state"]._description_selection(self.env))[
                        self.state
                    ],
                )
            )
