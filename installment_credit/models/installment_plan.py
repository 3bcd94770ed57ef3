from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..tools import schedule

# Plans and installments are created, deleted and tied to an invoice and its
# money only by the plan service methods (``account.move.create_installment_plan``
# and ``_installment_create_plan``, ``_installment_plans_from_terms`` at posting,
# ``installment.plan.action_cancel``, the installment edit and its rebalancing).
# They act through an environment whose context holds this object. It is a
# Python object, not a flag: a context sent over RPC is JSON and cannot hold
# it, whereas any caller can send ``{"some_key": True}``. There is no other
# way in, superuser included; the benchmark's dataset writes through SQL.
PLAN_SERVICE = object()
PLAN_SERVICE_KEY = "installment_plan_service"
MANAGER_GROUP = "installment_credit.group_installment_manager"


def plan_service(records):
    """``records`` in the environment of the plan service methods."""
    return records.with_context(**{PLAN_SERVICE_KEY: PLAN_SERVICE})


def is_plan_service(records):
    return records.env.context.get(PLAN_SERVICE_KEY) is PLAN_SERVICE


def refuse_direct_write(records, names):
    """Refuse writing ``names`` on ``records`` outside the plan service."""
    if names and not is_plan_service(records):
        fields_ = records._fields
        raise UserError(
            records.env._(
                "%(fields)s of %(model)s cannot be changed directly: they tie the "
                "installments to their invoice and its money. Edit the amounts or "
                "due dates of unpaid installments, or cancel the plan and make a "
                "new one from the invoice.",
                fields=", ".join(
                    "%s (%s)" % (fields_[name].string, name) for name in sorted(names)
                ),
                model=records._description,
            )
        )


class InstallmentPlan(models.Model):
    """An installment agreement on a posted customer invoice.

    The plan is an overlay: it never touches the invoice's journal items. What
    has been settled toward it is derived from the invoice's residual (see
    ``installment.plan.line._compute_allocation``).
    """

    _name = "installment.plan"
    _description = "Installment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        tracking=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        related="move_id.commercial_partner_id",
        store=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", related="move_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(
        # indexed for the aging's "plans in another currency than their
        # company's" (two ranges of this index); it never changes
        "res.currency",
        related="move_id.currency_id",
        store=True,
        index=True,
    )
    invoice_user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        related="move_id.invoice_user_id",
        groups="base.group_user",
    )
    amount_total = fields.Monetary(
        string="Amount Financed",
        required=True,
        readonly=True,
        tracking=True,
        help="What the customer still owed on the invoice when the plan was made.",
    )
    credit_note_base = fields.Monetary(
        readonly=True,
        help="Credit notes already reconciled with the invoice when the plan was "
        "made; later ones reduce the plan from its last installment backwards.",
    )
    amount_reduced = fields.Monetary(
        string="Reduced by Credit Notes", compute="_compute_amounts", store=True
    )
    amount_paid = fields.Monetary(
        string="Paid", compute="_compute_amounts", store=True, tracking=True
    )
    amount_residual = fields.Monetary(
        string="Remaining", compute="_compute_amounts", store=True
    )
    amount_late = fields.Monetary(string="Late", compute="_compute_amounts", store=True)
    amount_uncovered = fields.Monetary(
        string="Outside the Installments",
        compute="_compute_amounts",
        store=True,
        help="What the invoice still owes beyond the open installments, e.g. "
        "after a payment made before the plan was unreconciled. The aging "
        "report ages it at the invoice's due date.",
    )
    next_due_date = fields.Date(compute="_compute_amounts", store=True)
    next_due_amount = fields.Monetary(compute="_compute_amounts", store=True)
    installment_count = fields.Integer(
        string="Number of Installments", compute="_compute_amounts", store=True
    )
    cancelled = fields.Boolean(readonly=True, copy=False)
    source = fields.Selection(
        [("wizard", "Installments"), ("payment_term", "Payment Term")],
        required=True,
        readonly=True,
        default="wizard",
        help="Payment Term: made at posting from the payment term's installment "
        "scheme; the invoice's receivable lines then keep the installments' "
        "due dates as their dates of maturity.",
    )
    state = fields.Selection(
        [("active", "Active"), ("paid", "Paid"), ("cancelled", "Cancelled")],
        compute="_compute_state",
        store=True,
        tracking=True,
        # Not indexed: three values, and the queries that filter on it use
        # "!= 'cancelled'" or go through the installments' own plan_state.
        # An index on a column that changes also rules out the in-place (HOT)
        # updates init() prepares for.
    )
    line_ids = fields.One2many(
        "installment.plan.line", "plan_id", string="Installments", copy=False
    )

    def init(self):
        # A plan is a row of totals rewritten by every payment, credit note
        # and daily late flip, and the plans concerned sit side by side (the
        # invoices of a billing run fall due together). Half of each page is
        # kept free so that the new row versions fit on the same page: with
        # no index on the columns that change, PostgreSQL then updates them
        # in place of the index entries (HOT). At 1M installments this halves
        # the plans' share of the daily flip (bench/RESULTS.md, scenario 3).
        # It applies to the pages written from now on.
        self.env.cr.execute(SQL("ALTER TABLE installment_plan SET (fillfactor = 50)"))
        # The few plans whose invoice owes more than their installments (the
        # aging report's "uncovered" rows). The column is 0 for all others and
        # stays 0 on their updates: they remain in-place (HOT) updates.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS installment_plan_uncovered_idx "
                "ON installment_plan (company_id) WHERE amount_uncovered != 0"
            )
        )
        # One non-cancelled plan per invoice, enforced by the database too.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS installment_plan_move_active_uniq "
                "ON installment_plan (move_id) WHERE state != 'cancelled'"
            )
        )

    def _api_values(self):
        """The plan as plain values for the JSON API (dates as YYYY-MM-DD)."""
        self.ensure_one()
        return {
            "id": self.id,
            "invoice": {"id": self.move_id.id, "name": self.move_id.name},
            "customer": {"id": self.partner_id.id, "name": self.partner_id.name},
            "currency": self.currency_id.name,
            "state": self.state,
            "amount_total": self.amount_total,
            "amount_paid": self.amount_paid,
            "amount_residual": self.amount_residual,
            "amount_late": self.amount_late,
            "next_due_date": self.next_due_date and str(self.next_due_date) or None,
            "installments": [
                {
                    "id": line.id,
                    "due_date": str(line.due_date),
                    "amount": line.amount,
                    "amount_paid": line.amount_paid,
                    "amount_residual": line.amount_residual,
                    "state": line.state,
                }
                for line in self.line_ids.sorted()
            ],
        }

    @api.depends("move_id.name")
    def _compute_name(self):
        for plan in self:
            plan.name = _("Installments of %s", plan.move_id.name or "")

    @api.depends(
        "move_id.amount_residual",
        "line_ids.amount",
        "line_ids.amount_reduced",
        "line_ids.amount_paid",
        "line_ids.amount_residual",
        "line_ids.state",
        "line_ids.due_date",
    )
    def _compute_amounts(self):
        for plan in self:
            lines = plan.line_ids.sorted()
            open_lines = lines.filtered(lambda line: line.state != "paid")
            plan.amount_reduced = sum(lines.mapped("amount_reduced"))
            plan.amount_paid = sum(lines.mapped("amount_paid"))
            plan.amount_residual = sum(lines.mapped("amount_residual"))
            plan.amount_late = sum(
                open_lines.filtered(lambda line: line.state == "late").mapped(
                    "amount_residual"
                )
            )
            plan.next_due_date = open_lines[:1].due_date
            plan.next_due_amount = open_lines[:1].amount_residual
            plan.installment_count = len(lines)
            plan.amount_uncovered = plan.currency_id.round(
                plan.move_id.amount_residual - plan.amount_residual
            )

    @api.depends("cancelled", "line_ids.state")
    def _compute_state(self):
        for plan in self:
            if plan.cancelled:
                plan.state = "cancelled"
            elif plan.line_ids and all(
                state == "paid" for state in plan.line_ids.mapped("state")
            ):
                plan.state = "paid"
            else:
                plan.state = "active"

    @api.constrains("amount_total", "line_ids")
    def _check_lines_sum(self):
        for plan in self:
            if not plan.line_ids:
                continue
            total = sum(plan.line_ids.mapped("amount"))
            if plan.currency_id.compare_amounts(total, plan.amount_total):
                raise ValidationError(
                    _(
                        "The installments of %(plan)s add up to %(sum)s but the plan "
                        "finances %(total)s. Adjust the installments so that they "
                        "cover exactly the amount financed.",
                        plan=plan.display_name,
                        sum=plan.currency_id.format(total),
                        total=plan.currency_id.format(plan.amount_total),
                    )
                )

    @api.constrains("move_id", "amount_total")
    def _check_invoice(self):
        for plan in self:
            move = plan.move_id
            if move.move_type not in ("out_invoice", "out_receipt"):
                raise ValidationError(
                    _(
                        "%(move)s is not a customer invoice or receipt: installment "
                        "plans are only for customer invoices.",
                        move=move.display_name,
                    )
                )
            if move.state != "posted":
                raise ValidationError(
                    _(
                        "%s is not posted: post it before setting up installments.",
                        move.display_name,
                    )
                )
            if plan.currency_id.compare_amounts(plan.amount_total, 0) <= 0:
                raise ValidationError(
                    _(
                        "%s has nothing left to finance: an installment plan covers "
                        "a positive amount still due on the invoice.",
                        move.display_name,
                    )
                )

    @api.constrains("move_id", "cancelled")
    def _check_one_active_plan(self):
        # Also a unique index; this says it in words, before the database does.
        active = self.filtered(lambda plan: not plan.cancelled)
        if not active:
            return
        counts = dict(
            self._read_group(
                [("move_id", "in", active.move_id.ids), ("cancelled", "=", False)],
                ["move_id"],
                ["__count"],
            )
        )
        for move in active.move_id:
            if counts.get(move, 0) > 1:
                raise ValidationError(
                    _(
                        "%s already has an active installment plan. Edit its "
                        "installments, or cancel it before making a new one.",
                        move.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Guards: only the plan service methods create and tie (see PLAN_SERVICE)
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if not is_plan_service(self):
            raise UserError(
                _(
                    "Installment plans are made from their invoice: use its "
                    "Installments button, or account.move.create_installment_plan."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        # The invoice, the amount financed and the cancellation, and every
        # computed or related value (totals, state, customer, company).
        refuse_direct_write(
            self,
            {
                name
                for name in vals
                if name
                in (
                    "move_id",
                    "amount_total",
                    "cancelled",
                    "credit_note_base",
                    "source",
                )
                or (name in self._fields and self._fields[name].compute)
            },
        )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_history(self):
        if not is_plan_service(self):
            raise UserError(
                _(
                    "Installment plans are kept as history: cancel the plan "
                    "instead of deleting it."
                )
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_cancel(self):
        """Cancel the plan: it stays as history and frees the invoice."""
        for plan in self.filtered(lambda p: p.state != "cancelled"):
            plan_service(plan).cancelled = True
            plan.message_post(body=_("Installment plan cancelled."))
        return True

    @api.readonly
    def action_open_invoice(self):
        self.ensure_one()
        return self.move_id._get_records_action(context={})

    def action_register_payment(self):
        self.ensure_one()
        return self.move_id.action_register_payment()

    def action_send_reminder(self):
        """Send the next applicable reminder for this plan now (and log it)."""
        self.ensure_one()
        self.env["installment.reminder.run"]._check_send_rights()
        if self.state != "active":
            raise UserError(
                _("%s is not active: there is nothing to remind.", self.display_name)
            )
        reminders = self.env["installment.reminder.run"]
        logs = reminders._send_now(
            self.partner_id,
            plan_lines=self.line_ids.filtered(lambda line: line.state != "paid"),
        )
        return reminders._send_now_notification(logs)

    # ------------------------------------------------------------------
    # Services
    # ------------------------------------------------------------------

    def _rebalance_after_edit(self, line, new_amount, flexible=None):
        """Give ``line`` ``new_amount`` and spread the difference evenly over
        ``flexible``: by default the later installments the user has not
        edited themselves (an amount edit). Adding or removing an installment
        (``add_installment``, ``_remove_installments``) applies the same rule
        with every unpaid installment nobody edited by hand as ``flexible``;
        a removed installment gets ``new_amount`` 0.

        :return: ``{installment: amount}`` for ``flexible``
        :raise UserError: when nothing can absorb the difference or an
            installment would not stay positive
        """
        self.ensure_one()
        currency = self.currency_id
        lines = self.line_ids.sorted()
        position = list(lines).index(line)
        reshaping = flexible is not None
        if not reshaping:
            flexible = lines[position + 1 :].filtered(
                lambda rec: not rec.is_manual and rec.state not in ("paid", "partial")
            )
        if (
            not (reshaping and currency.is_zero(new_amount))
            and currency.compare_amounts(new_amount, 0) <= 0
        ):
            raise UserError(
                _(
                    "Installment %(seq)s of %(plan)s must be positive; to remove it, "
                    "move its amount to other installments.",
                    seq=position + 1,
                    plan=self.display_name,
                )
            )
        others = lines - flexible - line
        rest = currency.round(
            self.amount_total - sum(others.mapped("amount")) - new_amount
        )
        if not flexible:
            if currency.is_zero(rest):
                return {}
            if reshaping:
                raise UserError(
                    _(
                        "No installment can absorb the %(diff)s of installment "
                        "%(seq)s of %(plan)s: every other installment is paid or "
                        "was edited by hand. Edit the amount of another unpaid "
                        "installment first, so the total stays %(total)s.",
                        diff=currency.format(abs(rest)),
                        seq=position + 1,
                        plan=self.display_name,
                        total=currency.format(self.amount_total),
                    )
                )
            raise UserError(
                _(
                    "No later installment can absorb the difference of %(diff)s "
                    "after installment %(seq)s of %(plan)s (the later ones are "
                    "paid or were edited by hand). Edit a later installment "
                    "instead so the total stays %(total)s.",
                    diff=currency.format(-rest),
                    seq=position + 1,
                    plan=self.display_name,
                    total=currency.format(self.amount_total),
                )
            )
        try:
            parts = schedule.split_even(
                rest, len(flexible), currency.round, currency.rounding
            )
        except schedule.ScheduleError:
            parts = [0.0]
        if any(currency.compare_amounts(p, 0) <= 0 for p in parts):
            raise UserError(
                _(
                    "Setting installment %(seq)s of %(plan)s to %(amount)s leaves "
                    "%(rest)s for the %(count)s %(which)s installment(s): each must "
                    "stay positive. Choose a smaller amount.",
                    seq=position + 1,
                    plan=self.display_name,
                    amount=currency.format(new_amount),
                    rest=currency.format(rest),
                    count=len(flexible),
                    which=_("unpaid") if reshaping else _("later"),
                )
            )
        return dict(zip(flexible, parts, strict=True))

    def _sync_term_maturities(self):
        """Give the receivable lines of plans made from a payment term the
        due dates of their installments, in order (a date of maturity may
        change on a posted journal item; amounts never do), so that Odoo's
        payment-term table, Register Payment's installment modes and the
        portal read the plan's dates. Lines and installments are paired one
        to one, or one date of maturity to one installment when the term
        gave several lines the same date; otherwise nothing is paired."""
        for plan in self.filtered(
            lambda p: p.source == "payment_term" and p.state != "cancelled"
        ):
            installments = plan.line_ids.sorted()
            terms = plan.move_id.line_ids.filtered(
                lambda line: line.display_type == "payment_term"
            ).sorted(lambda line: (line.date_maturity, line.id))
            if len(terms) == len(installments):
                groups = list(terms)
            else:
                groups = [
                    terms.filtered(lambda line, d=date: line.date_maturity == d)
                    for date in sorted(set(terms.mapped("date_maturity")))
                ]
                if len(groups) != len(installments):
                    continue
            for lines, installment in zip(groups, installments, strict=True):
                lines = lines.filtered(
                    lambda line, d=installment.due_date: line.date_maturity != d
                )
                if lines:
                    # Only a date changes: Odoo's sync of the invoice's
                    # dynamic lines has nothing to recompute.
                    lines.with_context(skip_invoice_sync=True).write(
                        {"date_maturity": installment.due_date}
                    )

    def _post_edit_message(self, changes):
        """Log installment edits in the chatter: ``changes`` is a list of
        (line, field label, old, new)."""
        self.ensure_one()
        items = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "Installment %(seq)s: %(field)s %(old)s → %(new)s",
                seq=line._get_position(),
                field=label,
                old=old,
                new=new,
            )
            for line, label, old, new in changes
        )
        self.message_post(
            body=Markup("%s<ul>%s</ul>") % (_("Installments changed:"), items)
        )

    # ------------------------------------------------------------------
    # Scheduled action
    # ------------------------------------------------------------------

    @api.model
    def _cron_installment_daily(self):
        """Daily: flip overdue installments to late, then hand them over.

        The flip is committed on its own (when run by the scheduler) before
        any reminder is sent: a reminder run that fails or times out never
        takes the late states back."""
        lines = self.env["installment.plan.line"]._flip_late_installments()
        if self.env["installment.batch.guard"]._auto_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        lines._on_installments_late()
        return lines
