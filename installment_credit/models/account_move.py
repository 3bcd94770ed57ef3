from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import schedule


class AccountMove(models.Model):
    _inherit = "account.move"

    installment_plan_ids = fields.One2many("installment.plan", "move_id", readonly=True)
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
    installment_amount_paid = fields.Monetary(
        string="Installments Paid", related="installment_plan_id.amount_paid"
    )
    installment_amount_residual = fields.Monetary(
        string="Installments Remaining", related="installment_plan_id.amount_residual"
    )
    installment_amount_late = fields.Monetary(
        string="Late", related="installment_plan_id.amount_late"
    )
    installment_next_due_date = fields.Date(
        string="Next Due", related="installment_plan_id.next_due_date"
    )
    installment_next_due_amount = fields.Monetary(
        string="Next Amount", related="installment_plan_id.next_due_amount"
    )
    installment_can_create = fields.Boolean(compute="_compute_installment_plan_id")

    @api.depends("installment_plan_ids.state", "state", "amount_residual", "move_type")
    def _compute_installment_plan_id(self):
        for move in self:
            plan = move.installment_plan_ids.filtered(lambda p: p.state != "cancelled")[
                :1
            ]
            move.installment_plan_id = plan
            move.installment_line_ids = plan.line_ids
            move.installment_plan_count = len(move.installment_plan_ids)
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

    def create_installment_plan(
        self,
        count=None,
        interval_number=1,
        interval_unit="month",
        first_due_date=None,
        installment_amount=None,
        lines=None,
    ):
        """Create an installment plan for what is still due on this invoice.

        Exactly one mode is used, in this order of precedence:

        * ``lines``: a manual schedule, a list of ``(due_date, amount)``, which
          must add up to the invoice's residual; dates are kept as given;
        * ``installment_amount``: installments of that amount, the last one
          taking the remainder (the count follows);
        * ``count``: an even split, the rounding remainder on the last one.

        For the generated modes, dates start on ``first_due_date`` and follow
        every ``interval_number`` ``interval_unit`` (``day``, ``week`` or
        ``month``; months anchored on the first date's day), then move to a
        working day by the company's policy.

        :return: the new ``installment.plan``
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
    ):
        """The ``[(due_date, amount)]`` a plan would get (see
        ``create_installment_plan``); validates, writes nothing."""
        self.ensure_one()
        currency = self.currency_id
        total = self.amount_residual
        if lines:
            values = self._installment_manual_lines(lines)
        else:
            if not first_due_date:
                raise UserError(_("Set the first due date of the installments."))
            first_due_date = fields.Date.to_date(first_due_date)
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
        return {
            "mode": "even",
            "count": 3,
            "interval_number": 1,
            "interval_unit": "month",
            "first_due_date": today + relativedelta(months=1),
        }

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
        values = []
        for due_date, amount in lines:
            if not due_date:
                raise UserError(_("Every installment needs a due date."))
            if currency.compare_amounts(amount or 0.0, 0) <= 0:
                raise UserError(
                    _(
                        "Installment amounts must be positive (got %s).",
                        currency.format(amount or 0.0),
                    )
                )
            values.append((fields.Date.to_date(due_date), currency.round(amount)))
        values.sort(key=lambda value: value[0])
        total = sum(amount for _date, amount in values)
        if currency.compare_amounts(total, self.amount_residual):
            raise UserError(
                _(
                    "The installments add up to %(sum)s but %(due)s is due on "
                    "%(invoice)s: %(diff)s remains to allocate.",
                    sum=currency.format(total),
                    due=currency.format(self.amount_residual),
                    invoice=self.display_name,
                    diff=currency.format(self.amount_residual - total),
                )
            )
        return values

    def _installment_create_plan(self, values):
        """Create the plan from ``[(due_date, amount)]`` adding up to the residual."""
        self.ensure_one()
        settlements = self._installment_settlements()
        plan = self.env["installment.plan"].create(
            {
                "move_id": self.id,
                "amount_total": self.amount_residual,
                "credit_note_base": settlements["credit_notes"],
                "line_ids": [
                    fields.Command.create(
                        {"sequence": index, "due_date": due_date, "amount": amount}
                    )
                    for index, (due_date, amount) in enumerate(values, start=1)
                ],
            }
        )
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

    def action_open_installment_wizard(self):
        self.ensure_one()
        self._check_installment_plan_allowed()
        return {
            "type": "ir.actions.act_window",
            "name": _("Installments"),
            "res_model": "installment.plan.create",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

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

    def action_send_installment_reminder(self):
        """Send the next applicable reminder for this invoice now: its plan's
        installments if it has one, else the invoice itself."""
        self.ensure_one()
        if self.installment_plan_id:
            return self.installment_plan_id.action_send_reminder()
        if (
            self.move_type != "out_invoice"
            or self.state != "posted"
            or self.currency_id.compare_amounts(self.amount_residual, 0) <= 0
        ):
            raise UserError(
                _(
                    "%s is not an open customer invoice: there is nothing to remind.",
                    self.display_name,
                )
            )
        partner = self.commercial_partner_id
        if "billing_mode" in partner._fields and partner.billing_mode == "prepaid":
            raise UserError(
                _(
                    "%s is a prepaid customer: invoice reminders are for postpaid "
                    "customers.",
                    partner.display_name,
                )
            )
        rules = self.env["installment.reminder.rule"]
        logs = rules._send_now(partner, invoices=self)
        return rules._send_now_notification(logs)

    def button_draft(self):
        # A plan overlays a posted invoice: back to draft, the plan is history.
        self.installment_plan_ids.filtered(
            lambda p: p.state != "cancelled"
        ).action_cancel()
        return super().button_draft()

    def button_cancel(self):
        self.installment_plan_ids.filtered(
            lambda p: p.state != "cancelled"
        ).action_cancel()
        return super().button_cancel()
