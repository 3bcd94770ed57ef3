import itertools
from contextlib import nullcontext

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from ..tools import schedule
from .installment_plan import (
    MANAGER_GROUP,
    is_plan_service,
    plan_service,
    refuse_direct_write,
)

# What a user may write on an installment: its amount and due date (through
# ``_edit_installment``) and the hand-edited mark. The rest belongs to the
# plan service methods (see PLAN_SERVICE).
USER_FIELDS = frozenset({"amount", "due_date", "is_manual"})


class InstallmentPlanLine(models.Model):
    _name = "installment.plan.line"
    _description = "Installment"
    _order = "plan_id, sequence, due_date, id"
    _check_company_auto = True
    _rec_name = "due_date"

    plan_id = fields.Many2one(
        "installment.plan", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    due_date = fields.Date(required=True)
    currency_id = fields.Many2one(related="plan_id.currency_id", store=True)
    amount = fields.Monetary(required=True)
    is_manual = fields.Boolean(
        string="Edited by Hand",
        help="Set when a user changed the amount: rebalancing leaves it alone.",
    )
    amount_reduced = fields.Monetary(
        string="Credited", compute="_compute_allocation", store=True
    )
    amount_paid = fields.Monetary(
        string="Paid", compute="_compute_allocation", store=True
    )
    amount_residual = fields.Monetary(
        string="Remaining", compute="_compute_allocation", store=True
    )
    date_paid = fields.Date(compute="_compute_allocation", store=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("partial", "Partially Paid"),
            ("paid", "Paid"),
            ("late", "Late"),
        ],
        compute="_compute_allocation",
        store=True,
        index=True,
    )
    partner_id = fields.Many2one(
        "res.partner", related="plan_id.partner_id", store=True, index=True
    )
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        related="plan_id.move_id",
        store=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", related="plan_id.company_id", store=True, index=True
    )
    plan_state = fields.Selection(
        related="plan_id.state", string="Plan Status", store=True
    )
    invoice_user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        related="move_id.invoice_user_id",
        groups="base.group_user",
    )

    def init(self):
        # Serves the daily late flip and the due-date filters.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS installment_plan_line_due_state_idx "
                "ON installment_plan_line (due_date, state)"
            )
        )
        # Serves the receivables aging of today: the open installments of a
        # company in its own currency, read from the index alone (customer,
        # due date and residual included), without visiting the table.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS installment_plan_line_open_aging_idx "
                "ON installment_plan_line (company_id, currency_id) "
                "INCLUDE (partner_id, due_date, amount_residual) "
                "WHERE amount_residual != 0 AND plan_state != 'cancelled'"
            )
        )

    @api.depends(
        "plan_id.move_id.amount_residual",
        "plan_id.amount_total",
        "plan_id.credit_note_base",
        "plan_id.line_ids.amount",
        "plan_id.line_ids.due_date",
        "plan_id.line_ids.sequence",
    )
    def _compute_allocation(self):
        """Allocate what was settled toward the plan over its installments.

        settled = amount financed - invoice residual. Credit notes reconciled
        after the plan was made reduce it from the last installment backwards;
        the rest (payments) fills installments oldest first, in payment-date
        order so each installment knows when it was completed.
        """
        today = fields.Date.context_today(self)
        # The whole plan is allocated, but only the lines being computed
        # (``self``) are assigned: assigning a sibling would write it, and
        # outside the plan service nothing writes an installment's allocation.
        # Siblings whose allocation changes are marked for computation too
        # (every dependency is plan-wide). In a form's onchange, ``self`` may
        # be new records standing for the plan's lines: matched by origin.
        results = {}
        for plan in self.plan_id:
            lines = plan.line_ids.sorted()
            currency = plan.currency_id
            settlements = plan.move_id._installment_settlements()
            settled = plan.amount_total - plan.move_id.amount_residual
            settled = currency.round(min(max(settled, 0.0), plan.amount_total))
            reduction = currency.round(
                min(
                    max(settlements["credit_notes"] - plan.credit_note_base, 0.0),
                    settled,
                )
            )
            paid_total = currency.round(settled - reduction)
            amounts = [line.amount for line in lines]
            reduced = schedule.reduce_from_last(amounts, reduction)
            payable = [
                currency.round(a - r) for a, r in zip(amounts, reduced, strict=True)
            ]
            paid = [
                currency.round(p)
                for p in schedule.allocate_oldest_first(payable, paid_total)
            ]
            # Payments in date order, skipping those older than the plan.
            stream = list(settlements["payments"])
            skip = sum(amount for _date, amount in stream) - paid_total
            dated = []
            for pay_date, amount in stream:
                used = min(amount, max(skip, 0.0))
                skip -= used
                if currency.compare_amounts(amount - used, 0) > 0:
                    dated.append([pay_date, amount - used])
            for line, red, due, got in zip(lines, reduced, payable, paid, strict=True):
                residual = currency.round(due - got)
                date_paid = False
                need = got
                while dated and currency.compare_amounts(need, 0) > 0:
                    take = min(need, dated[0][1])
                    need -= take
                    dated[0][1] -= take
                    date_paid = dated[0][0]
                    if currency.is_zero(dated[0][1]):
                        dated.pop(0)
                if currency.is_zero(residual):
                    state = "paid"
                elif line.due_date and line.due_date < today:
                    state = "late"
                elif currency.compare_amounts(got, 0) > 0:
                    state = "partial"
                else:
                    state = "pending"
                results[line.id] = {
                    "amount_reduced": currency.round(red),
                    "amount_paid": got,
                    "amount_residual": residual,
                    "date_paid": date_paid if currency.is_zero(residual) else False,
                    "state": state,
                }
        for line in self:
            values = results.get(line.id) or results.get(line._origin.id)
            if values is None:  # a line just added in a form: nothing settled
                values = {
                    "amount_reduced": 0.0,
                    "amount_paid": 0.0,
                    "amount_residual": line.amount,
                    "date_paid": False,
                    "state": "pending",
                }
            line.update(values)

    @api.constrains("amount")
    def _check_amount(self):
        for line in self:
            if line.currency_id.compare_amounts(line.amount, 0) <= 0:
                raise ValidationError(
                    _(
                        "Installment %(seq)s of %(plan)s must be positive (got "
                        "%(amount)s); to remove it, move its amount to other "
                        "installments.",
                        seq=line._get_position(),
                        plan=line.plan_id.display_name,
                        amount=line.currency_id.format(line.amount),
                    )
                )
        # Multi-line rebalancing (the plan service) checks once, at its end.
        if not (
            is_plan_service(self) and self.env.context.get("installment_skip_sum_check")
        ):
            self.plan_id._check_lines_sum()

    @api.constrains("due_date", "sequence", "plan_id")
    def _check_schedule(self):
        """In installment order, due dates never go back (two installments may
        share a date: the working-day policy can move both to the same day);
        at most as many installments as a generated schedule; never due
        before the invoice date unless a manager makes it so."""
        if is_plan_service(self) and self.env.context.get(
            "installment_skip_schedule_check"
        ):
            return  # re-ordering: checked once the whole plan is in order
        for plan in self.plan_id:
            # _order within a plan, sorted here: sorted() without a key
            # queries the database, once per plan of a posting batch
            lines = plan.line_ids.sorted(
                key=lambda line: (line.sequence, line.due_date, line.id)
            )
            if len(lines) > schedule.MAX_INSTALLMENTS:
                raise ValidationError(
                    _(
                        "%(plan)s has %(count)s installments: a schedule has at "
                        "most %(max)s installments.",
                        plan=plan.display_name,
                        count=len(lines),
                        max=schedule.MAX_INSTALLMENTS,
                    )
                )
            pairs = itertools.pairwise(lines)
            for seq, (before, after) in enumerate(pairs, start=1):
                if after.due_date < before.due_date:
                    raise ValidationError(
                        _(
                            "Installment %(next)s of %(plan)s cannot be due on "
                            "%(date)s, before installment %(seq)s (%(prev_date)s): "
                            "due dates follow the order of the installments.",
                            next=seq + 1,
                            plan=plan.display_name,
                            date=format_date(self.env, after.due_date),
                            seq=seq,
                            prev_date=format_date(self.env, before.due_date),
                        )
                    )
        backdated = self.filtered(
            lambda line: (
                line.move_id.invoice_date and line.due_date < line.move_id.invoice_date
            )
        )
        if backdated and not self.env.user.has_group(MANAGER_GROUP):
            line = backdated[0]
            raise ValidationError(
                _(
                    "Installment %(seq)s of %(plan)s cannot be due on %(date)s, "
                    "before the invoice date (%(invoice_date)s). Choose a later "
                    "date, or ask an Installments manager.",
                    seq=line._get_position(),
                    plan=line.plan_id.display_name,
                    date=format_date(self.env, line.due_date),
                    invoice_date=format_date(self.env, line.move_id.invoice_date),
                )
            )

    @api.depends("move_id.name", "amount", "sequence")
    def _compute_display_name(self):
        for line in self:
            line.display_name = "%s #%s: %s" % (
                line.move_id.name or "",
                line.sequence,
                line.currency_id.format(line.amount) if line.currency_id else "",
            )

    def _get_position(self):
        self.ensure_one()
        lines = self.plan_id.line_ids.sorted()
        return list(lines).index(self) + 1

    # ------------------------------------------------------------------
    # Guards: only the plan service methods create, delete and tie
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not is_plan_service(self):
            raise UserError(
                _(
                    "Installments are made with their plan, from the invoice "
                    "(Installments button, or account.move.create_installment_plan). "
                    "To change a schedule, edit the amounts or due dates of its "
                    "unpaid installments."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if is_plan_service(self):
            result = super().write(vals)
        else:
            result = self._write_by_user(vals)
        if "due_date" in vals:
            self.plan_id._sync_term_maturities()
        return result

    def _write_by_user(self, vals):
        refuse_direct_write(self, set(vals) - USER_FIELDS)
        if not {"amount", "due_date"} & set(vals):
            return super().write(vals)
        if self.env.context.get("installment_rebalancing"):
            # The caller sets the amounts and dates itself, without the
            # rebalancing: the constraints still hold it to every invariant,
            # and what was paid stays as it was.
            for line in self:
                line._check_editable()
            return super().write(vals)
        # A date already re-ordered is undone when the amount edit that
        # follows (or another installment's edit) is refused.
        with self.env.cr.savepoint() if "due_date" in vals else nullcontext():
            for line in self.sorted():
                line._edit_installment(vals)
        other = {k: v for k, v in vals.items() if k not in ("amount", "due_date")}
        return super().write(other) if other else True

    def _edit_installment(self, vals):
        """Apply a user's edit of amount and/or due date to one installment."""
        self.ensure_one()
        plan = self.plan_id
        currency = plan.currency_id
        self._check_editable()
        changes = []
        updates = {}
        if "due_date" in vals:
            new_date = fields.Date.to_date(vals["due_date"])
            if not new_date:
                raise UserError(_("An installment needs a due date."))
            if new_date != self.due_date:
                changes.append((self, _("due date"), self.due_date, new_date))
                # Written now: an amount edit below rebalances in the new order.
                changes += plan._reorder_for_due_date(self, new_date)
        if "amount" in vals:
            new_amount = currency.round(vals["amount"])
            if currency.compare_amounts(new_amount, self.amount):
                rebalanced = plan._rebalance_after_edit(self, new_amount)
                changes.append(
                    (
                        self,
                        _("amount"),
                        currency.format(self.amount),
                        currency.format(new_amount),
                    )
                )
                changes += plan._write_rebalanced(rebalanced)
                updates.update(amount=new_amount, is_manual=True)
        if updates:
            plan_service(self).with_context(installment_skip_sum_check=True).write(
                updates
            )
            plan._check_lines_sum()
        if changes:
            plan._post_edit_message(changes)

    def _check_editable(self):
        self.ensure_one()
        plan = self.plan_id
        if plan.state == "cancelled":
            raise UserError(
                _(
                    "%s is cancelled: its installments can no longer be edited.",
                    plan.display_name,
                )
            )
        if self.state in ("paid", "partial") or not self.currency_id.is_zero(
            self.amount_paid
        ):
            raise UserError(
                _(
                    "Installment %(seq)s of %(plan)s has already been paid (fully or "
                    "partly) and cannot be edited. Edit an unpaid installment.",
                    seq=self._get_position(),
                    plan=plan.display_name,
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_plan_service(self):
        if not is_plan_service(self):
            raise UserError(
                _(
                    "Installments cannot be deleted: change their amounts, or "
                    "cancel the plan and make a new one."
                )
            )

    # ------------------------------------------------------------------
    # Late detection (daily)
    # ------------------------------------------------------------------

    @api.model
    def _flip_late_installments(self, today=None):
        """Mark unpaid installments whose due date has passed as late.

        One set-based UPDATE; returns the installments that just became late
        (the hook for reminders). Running it twice the same day returns nothing
        the second time.
        """
        today = today or fields.Date.context_today(self)
        self.env["installment.plan.line"].flush_model(
            ["state", "due_date", "plan_state", "amount_residual"]
        )
        # The flip changes no amount and no paid/unpaid status: of the plans'
        # stored totals only the late amount moves, by the residual of what
        # just became late. Both tables in one statement, instead of the
        # ORM's full recomputation of every total of every touched plan.
        self.env["installment.plan"].flush_model(["amount_late"])
        rows = self.env.execute_query(
            SQL(
                """
                WITH flipped AS (
                    UPDATE installment_plan_line
                       SET state = 'late'
                     WHERE plan_state = 'active'
                       AND state IN ('pending', 'partial')
                       AND due_date < %s
                 RETURNING id, plan_id, amount_residual
                ), plans AS (
                    UPDATE installment_plan plan
                       SET amount_late = COALESCE(plan.amount_late, 0) + late.amount
                      FROM (SELECT plan_id, SUM(amount_residual) AS amount
                              FROM flipped GROUP BY plan_id) late
                     WHERE plan.id = late.plan_id
                )
                SELECT id, plan_id FROM flipped
                """,
                today,
            )
        )
        lines = self.browse([row[0] for row in rows])
        if lines:
            lines.invalidate_recordset(["state"])
            self.env["installment.plan"].browse(
                {row[1] for row in rows}
            ).invalidate_recordset(["amount_late"])
        return lines

    def _on_installments_late(self):
        """Hook called with the installments that just became late.

        The installment core only flips states; the reminder rules run here,
        over every target that fell due (these late installments included,
        as the "overdue" rules see them), so that the daily action sends one
        email per customer. See ``installment.reminder.run._cron_send_reminders``.
        """
        self.env["installment.reminder.run"]._cron_send_reminders()
        return self
