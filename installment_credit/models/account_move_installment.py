from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import schedule
from .installment_plan import plan_service


class AccountMove(models.Model):
    _inherit = "account.move"

    installment_plan_ids = fields.One2many(
        "installment.plan", "move_id", string="Installment Plans", readonly=True
    )
    installment_plan_id = fields.Many2one(
        "installment.plan",
        compute="_compute_installment_plan_id",
        help="The invoice's plan that is not cancelled.",
    )
    installment_line_ids = fields.One2many(
        "installment.plan.line",
        compute="_compute_installment_plan_id",
        string="Installments",
    )
    installment_plan_count = fields.Integer(compute="_compute_installment_plan_id")
    installment_can_create = fields.Boolean(compute="_compute_installment_plan_id")
    installment_amount_paid = fields.Monetary(
        string="Paid", compute="_compute_installment_plan_id"
    )
    installment_amount_residual = fields.Monetary(
        string="Remaining", compute="_compute_installment_plan_id"
    )
    installment_amount_late = fields.Monetary(
        string="Late", compute="_compute_installment_plan_id"
    )
    installment_next_due_amount = fields.Monetary(
        string="Next Due Amount", compute="_compute_installment_plan_id"
    )

    @api.depends(
        "installment_plan_ids.state",
        "installment_plan_ids.amount_paid",
        "installment_plan_ids.amount_residual",
        "installment_plan_ids.amount_late",
        "installment_plan_ids.next_due_amount",
        "state",
        "amount_residual",
        "move_type",
    )
    def _compute_installment_plan_id(self):
        for move in self:
            plan = move.installment_plan_ids.filtered(lambda p: p.state != "cancelled")[
                :1
            ]
            move.installment_plan_id = plan
            move.installment_line_ids = plan.line_ids
            move.installment_plan_count = len(move.installment_plan_ids)
            move.installment_amount_paid = plan.amount_paid
            move.installment_amount_residual = plan.amount_residual
            move.installment_amount_late = plan.amount_late
            move.installment_next_due_amount = plan.next_due_amount
            move.installment_can_create = (
                not plan
                and move.move_type == "out_invoice"
                and move.state == "posted"
                and not move.currency_id.is_zero(move.amount_residual)
            )

    # ------------------------------------------------------------------
    # Settlements, as the plans read them
    # ------------------------------------------------------------------

    def _installment_settlements(self):
        """What settled this invoice's receivable, in the invoice currency.

        Returns ``{'credit_notes': amount, 'payments': [(date, amount), ...]}``
        with payments sorted by date: every partial reconciliation of the
        invoice's receivable lines whose counterpart is not a credit note
        counts as a payment.
        """
        self.ensure_one()
        credit_notes = 0.0
        payments = []
        term_lines = self.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        )
        for partial in term_lines.matched_credit_ids.sorted(
            lambda p: (p.max_date, p.id)
        ):
            counterpart = partial.credit_move_id.move_id
            if counterpart.move_type == "out_refund":
                credit_notes += partial.debit_amount_currency
            else:
                payments.append((partial.max_date, partial.debit_amount_currency))
        return {"credit_notes": credit_notes, "payments": payments}

    # ------------------------------------------------------------------
    # The one service that builds a plan
    # ------------------------------------------------------------------

    @api.returns("installment.plan", lambda plan: plan.id)
    def create_installment_plan(
        self,
        count=None,
        interval_number=1,
        interval_unit="month",
        first_due_date=None,
        installment_amount=None,
        lines=None,
        remainder=None,
    ):
        """Create an installment plan for what is still due on this invoice.

        Exactly one mode is used, in this order of precedence:

        * ``lines``: a manual schedule, a list of ``(due_date, amount)`` (or of
          ``{"due_date": ..., "amount": ...}``), which must add up to the
          invoice's residual; dates are kept as given; refused together with
          ``count``, ``installment_amount``, ``first_due_date`` or
          ``remainder``;
        * ``installment_amount`` and ``count``: ``count`` installments of that
          amount when they add up to what is due; otherwise refused, unless
          ``remainder='last'``: the last installment takes the difference;
        * ``installment_amount``: installments of that amount, the last one
          taking the remainder (the count follows);
        * ``count``: an even split, the rounding remainder on the last one.

        For the generated modes, dates start on ``first_due_date`` and follow
        every ``interval_number`` ``interval_unit`` (``day``, ``week`` or
        ``month``; months anchored on the first date's day), then move to a
        working day by the company's policy.

        Dates are ``date`` objects or ``YYYY-MM-DD`` strings (XML-RPC,
        JSON-RPC).

        :return: the new ``installment.plan`` (its id over XML-RPC/JSON-RPC)
        :raise UserError: with a message naming the problem; nothing is written.
        """
        self.ensure_one()
        self._check_installment_plan_allowed()
        values = self._installment_compute_schedule(
            count=count,
            interval_number=interval_number,
            interval_unit=interval_unit,
            first_due_date=first_due_date,
            installment_amount=installment_amount,
            lines=lines,
            remainder=remainder,
        )
        return self._installment_create_plan(values)

    def _installment_compute_schedule(
        self,
        count=None,
        interval_number=1,
        interval_unit="month",
        first_due_date=None,
        installment_amount=None,
        lines=None,
        remainder=None,
    ):
        """The ``[(due_date, amount)]`` a plan would get (see
        ``create_installment_plan``); validates, writes nothing."""
        self.ensure_one()
        currency = self.currency_id
        total = self.amount_residual
        if lines:
            generated = {
                "count": count,
                "installment_amount": installment_amount,
                "first_due_date": first_due_date,
                "remainder": remainder,
            }
            given = [
                name for name, value in generated.items() if value not in (None, False)
            ]
            if given:
                # a manual schedule sets its own dates and amounts: silently
                # ignoring the others would make a plan the caller did not ask for
                raise UserError(
                    _(
                        "Installments given one by one (lines) set their own dates "
                        "and amounts: leave out %(arguments)s, or leave out the "
                        "lines to have the schedule generated.",
                        arguments=", ".join(given),
                    )
                )
            values = self._installment_manual_lines(lines)
        else:
            if not first_due_date:
                raise UserError(_("Set the first due date of the installments."))
            first_due_date = self._installment_to_date(first_due_date)
            if not interval_number or interval_number < 1:
                raise UserError(
                    _("The interval between installments must be at least 1.")
                )
            if interval_unit not in schedule.INTERVAL_UNITS:
                raise UserError(_("The interval unit must be days, weeks or months."))
            if installment_amount is not None and installment_amount is not False:
                if currency.compare_amounts(installment_amount, 0) <= 0:
                    raise UserError(_("The installment amount must be positive."))
                if currency.compare_amounts(installment_amount, total) > 0:
                    raise UserError(
                        _(
                            "The installment amount %(amount)s is above what is due "
                            "on %(invoice)s (%(due)s). Choose a smaller amount.",
                            amount=currency.format(installment_amount),
                            invoice=self.name,
                            due=currency.format(total),
                        )
                    )
                if count is not None and count is not False:
                    amounts = self._installment_amount_and_count(
                        count, installment_amount, remainder
                    )
                else:
                    amounts = self._installment_engine(
                        schedule.split_fixed, total, installment_amount, currency.round
                    )
            elif count is not None and count is not False:
                if not 1 <= count <= schedule.MAX_INSTALLMENTS:
                    raise UserError(
                        _(
                            "The number of installments must be between 1 and "
                            "%(max)s (got %(count)s).",
                            max=schedule.MAX_INSTALLMENTS,
                            count=count,
                        )
                    )
                amounts = self._installment_engine(
                    schedule.split_even, total, count, currency.round, currency.rounding
                )
            else:
                raise UserError(
                    _(
                        "Give a number of installments, an installment amount or "
                        "the installment lines."
                    )
                )
            dates = self._installment_engine(
                schedule.generate_dates,
                first_due_date,
                len(amounts),
                interval_number,
                interval_unit,
            )
            dates = self.company_id._installment_shift_dates(dates)
            values = list(zip(dates, amounts, strict=True))
        return values

    def _installment_wizard_defaults(self):
        """Defaults of the Installments wizard for this invoice (the payment
        term's installment scheme extends this)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        term = self.invoice_payment_term_id
        if term.installment_enabled:
            return {
                "mode": "even",
                "count": term.installment_count,
                "interval_number": term.installment_interval_number,
                "interval_unit": term.installment_interval_unit,
                "first_due_date": term._installment_first_date(today),
            }
        return {
            "mode": "even",
            "count": 3,
            "interval_number": 1,
            "interval_unit": "month",
            "first_due_date": today + relativedelta(months=1),
        }

    @api.model
    def _installment_to_date(self, value):
        """A date given by a caller: a ``date`` or an ISO ``YYYY-MM-DD`` text."""
        try:
            return fields.Date.to_date(value)
        except (TypeError, ValueError) as error:
            raise UserError(
                _("%r is not a date: use the format YYYY-MM-DD.", value)
            ) from error

    def _installment_engine(self, function, *args):
        try:
            return function(*args)
        except schedule.ScheduleError as error:
            raise UserError(str(error)) from error

    def _check_installment_plan_allowed(self):
        self.ensure_one()
        if self.move_type != "out_invoice":
            raise UserError(
                _(
                    "%s is not a customer invoice: installment plans are only for "
                    "customer invoices.",
                    self.display_name,
                )
            )
        if self.state != "posted":
            raise UserError(
                _("Post %s before setting up installments.", self.display_name)
            )
        if self.currency_id.is_zero(self.amount_residual):
            raise UserError(
                _(
                    "%s is fully paid: there is nothing left to split.",
                    self.display_name,
                )
            )
        if self.company_id not in self.env.companies:
            raise UserError(
                _(
                    "%(invoice)s belongs to %(company)s, which is not among your "
                    "active companies. Switch to that company first.",
                    invoice=self.display_name,
                    company=self.company_id.name,
                )
            )
        if self.installment_plan_ids.filtered(lambda p: p.state != "cancelled"):
            raise UserError(
                _(
                    "%s already has an installment plan. Edit its installments, "
                    "or cancel it before making a new one.",
                    self.display_name,
                )
            )

    def _installment_manual_lines(self, lines):
        currency = self.currency_id
        if len(lines) > schedule.MAX_INSTALLMENTS:
            raise UserError(
                _(
                    "A schedule has at most %(max)s installments (got %(count)s): "
                    "merge some of them.",
                    max=schedule.MAX_INSTALLMENTS,
                    count=len(lines),
                )
            )
        values = []
        for line in lines:
            if isinstance(line, dict):
                due_date, amount = line.get("due_date"), line.get("amount")
            else:
                due_date, amount = line
            if not due_date:
                raise UserError(_("Every installment needs a due date."))
            due_date = self._installment_to_date(due_date)
            if not isinstance(amount, (int, float)) or isinstance(amount, bool):
                raise UserError(
                    _("Installment amounts must be numbers (got %r).", amount)
                )
            if currency.compare_amounts(amount or 0.0, 0) <= 0:
                raise UserError(
                    _(
                        "Installment amounts must be positive (got %s).",
                        currency.format(amount or 0.0),
                    )
                )
            values.append((due_date, currency.round(amount)))
        values.sort(key=lambda value: value[0])
        self._installment_check_total(
            values,
            _(
                "The installments add up to %(sum)s but %(due)s is due on "
                "%(invoice)s: %(diff)s remains to allocate."
            ),
        )
        return values

    def _installment_check_total(self, values, message):
        """Refuse ``[(due_date, amount)]`` that does not add up to the residual.

        ``message`` is a translated text with the placeholders ``%(sum)s``,
        ``%(due)s``, ``%(invoice)s`` and ``%(diff)s``.
        """
        currency = self.currency_id
        total = sum(amount for _date, amount in values)
        if currency.compare_amounts(total, self.amount_residual):
            raise UserError(
                message
                % {
                    "sum": currency.format(total),
                    "due": currency.format(self.amount_residual),
                    "invoice": self.display_name,
                    "diff": currency.format(self.amount_residual - total),
                }
            )

    def _installment_plan_vals(self, values, fresh=False):
        """Values of a plan for ``[(due_date, amount)]`` adding up to the
        residual, and of its installments: ``(plan_vals, line_vals_list)``.

        ``fresh`` is for an invoice being posted: nothing can have settled it
        yet, so its stored totals and statuses are known and are included, and
        the caller may spare their recomputation (``_installment_plans_from_terms``).
        Otherwise what already settled the invoice is read, and the totals are
        left to the ORM.
        """
        self.ensure_one()
        lines = [
            {"sequence": index, "due_date": due_date, "amount": amount}
            for index, (due_date, amount) in enumerate(values, start=1)
        ]
        plan = {"move_id": self.id, "amount_total": self.amount_residual}
        if not fresh:
            plan["credit_note_base"] = self._installment_settlements()["credit_notes"]
            return plan, lines
        today = fields.Date.context_today(self)
        currency = self.currency_id
        common = {
            "partner_id": self.commercial_partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": currency.id,
        }
        for line in lines:
            line.update(
                common,
                move_id=self.id,
                amount_reduced=0.0,
                amount_paid=0.0,
                amount_residual=line["amount"],
                date_paid=False,
                state="late" if line["due_date"] < today else "pending",
                plan_state="active",
            )
        plan.update(
            common,
            name=_("Installments of %s", self.name),
            credit_note_base=0.0,
            amount_reduced=0.0,
            amount_paid=0.0,
            amount_residual=self.amount_residual,
            amount_uncovered=0.0,  # the plan is made for all that is due
            amount_late=currency.round(
                sum(line["amount"] for line in lines if line["state"] == "late")
            ),
            next_due_date=values[0][0],
            next_due_amount=values[0][1],
            installment_count=len(values),
            state="active",
        )
        return plan, lines

    def _installment_create_plan(self, values):
        """Create the plan from ``[(due_date, amount)]`` and log it on the invoice."""
        self.ensure_one()
        plan_vals, line_vals_list = self._installment_plan_vals(values)
        plan = plan_service(self.env["installment.plan"]).create(
            dict(
                plan_vals,
                line_ids=[fields.Command.create(vals) for vals in line_vals_list],
            )
        )
        plan = plan.with_env(self.env)
        self.message_post(
            body=_(
                "Installment plan created: %(count)s installments from %(first)s "
                "to %(last)s.",
                count=len(values),
                first=values[0][0],
                last=values[-1][0],
            )
        )
        return plan

    # ------------------------------------------------------------------
    # Buttons and lifecycle
    # ------------------------------------------------------------------

    @api.readonly
    def action_open_installment_wizard(self):
        self.ensure_one()
        self._check_installment_plan_allowed()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_plan_create_action"
        )
        action["context"] = {"default_move_id": self.id}
        return action

    @api.readonly
    def action_view_installment_plan(self):
        self.ensure_one()
        plans = self.installment_plan_ids
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_plan_action"
        )
        if len(plans) == 1:
            action.update(res_id=plans.id, view_mode="form", views=[(False, "form")])
        else:
            action.update(domain=[("id", "in", plans.ids)], context={})
        return action

    def _get_invoice_next_payment_values(self, custom_amount=None):
        """The portal's Pay proposes what the plan says is due: late + due
        today, else the next installment."""
        values = super()._get_invoice_next_payment_values(custom_amount=custom_amount)
        plan = self.installment_plan_id
        if (
            not values
            or not plan
            or plan.state != "active"
            or custom_amount is not None
        ):
            return values
        proposal = plan._get_payment_proposal(fields.Date.context_today(self))
        values.update(
            installment_state=proposal["mode"],
            next_amount_to_pay=proposal["amount"],
            next_due_date=proposal["due_date"],
            is_last_installment=proposal["is_last"],
            installment_due_label=proposal["label"],
            installment_due_detail=proposal["detail"],
        )
        return values

    def _installment_cancel_plans(self):
        """Cancel the active plans of these invoices (reset to draft, cancel)."""
        self.installment_plan_ids.filtered(
            lambda p: p.state != "cancelled"
        ).action_cancel()
        # The due date goes back to the receivable lines' while the invoice
        # is still posted (see _compute_invoice_date_due).
        self.flush_recordset(["invoice_date_due"])
