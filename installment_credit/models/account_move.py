from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from ..tools import schedule

OVERRIDE_LIMIT_KEY = "installment_credit_override_limit"
NO_AUTO_TOPUP_KEY = "installment_credit_no_auto_topup"


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
    installment_can_create = fields.Boolean(compute="_compute_installment_plan_id")
    installment_amount_paid = fields.Monetary(
        string="Installments Paid", compute="_compute_installment_plan_id"
    )
    installment_amount_residual = fields.Monetary(
        string="Installments Remaining", compute="_compute_installment_plan_id"
    )
    installment_amount_late = fields.Monetary(
        string="Late", compute="_compute_installment_plan_id"
    )
    installment_next_due_date = fields.Date(
        string="Next Due", compute="_compute_installment_plan_id"
    )
    installment_next_due_amount = fields.Monetary(
        string="Next Amount", compute="_compute_installment_plan_id"
    )

    @api.depends(
        "installment_plan_ids.state",
        "installment_plan_ids.amount_paid",
        "installment_plan_ids.amount_residual",
        "installment_plan_ids.amount_late",
        "installment_plan_ids.next_due_date",
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
            move.installment_next_due_date = plan.next_due_date
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
        plan = self.env["installment.plan"].create(
            dict(
                plan_vals,
                line_ids=[fields.Command.create(vals) for vals in line_vals_list],
            )
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
        today = fields.Date.context_today(self)
        due_lines = plan.line_ids.filtered(
            lambda line: line.state != "paid" and line.due_date <= today
        )
        values.update(
            installment_state="overdue" if due_lines else "next",
            next_amount_to_pay=plan._get_amount_due(today),
            next_due_date=due_lines[:1].due_date or plan.next_due_date,
            is_last_installment=len(plan.line_ids.filtered(lambda l: l.state != "paid"))
            <= 1,
        )
        return values

    def _post(self, soft=True):
        """The add-on's one posting hook: checks first (credit limits, credit
        packages, payment-term schedules), then Odoo's posting, then the
        installment plans, the credit grants and the prepaid settlement."""
        self._billing_check_limits(soft=soft)
        self._credit_check_packages()
        scheduled = self.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.invoice_payment_term_id.installment_enabled
            )
        )
        for move in scheduled:
            # Refuse before anything is posted when the scheme's absolute dates
            # are stale for this invoice date.
            move.invoice_payment_term_id._installment_check_dates(
                move.invoice_date or fields.Date.context_today(move)
            )
        posted = super()._post(soft=soft)
        (scheduled & posted)._installment_plans_from_terms()
        posted._credit_after_post()
        # Prepaid settlement after the plan exists: it counts as a payment and
        # fills the first installments.
        posted._billing_after_post()
        return posted

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
            plan_vals_list.append(plan_vals)
            schedules.append(line_vals_list)
        Plan = self.env["installment.plan"].with_context(
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            tracking_disable=True,
        )
        Line = self.env["installment.plan.line"]
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
        return plans

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
        # Refused when sold credits were already consumed; nothing written then.
        self._credit_release_on_draft()
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

    # ------------------------------------------------------------------
    # Prepaid and postpaid customers: credit limit check at posting,
    # settlement of prepaid customers' invoices from their balance.
    # ------------------------------------------------------------------
    def _billing_is_topup(self):
        """Whether this document sells prepaid credit (a line on the prepayment
        account of its company)."""
        self.ensure_one()
        account = self.company_id.prepayment_account_id
        return bool(account) and account in self.line_ids.account_id

    def _billing_exposure_amount(self):
        """Company-currency amount this document adds to the customer's exposure:
        its receivable total, minus what it credits to the prepayment account."""
        self.ensure_one()
        account = self.company_id.prepayment_account_id
        prepaid_part = 0.0
        if account:
            prepaid_part = -sum(
                self.line_ids.filtered(lambda line: line.account_id == account).mapped(
                    "balance"
                )
            )
        return self.amount_total_signed - prepaid_part

    def _billing_credit_limit_excess(self, lock=False):
        """Customers that posting ``self`` would take beyond their credit limit.

        Postpaid customers are checked when their company uses credit limits
        with the ``block`` policy and their limit is not zero: exposure is
        their receivable balance minus prepaid money held, plus what is still
        to invoice (sales), plus the documents of ``self``. Prepaid customers
        are always checked: their prepaid balance after posting may not go
        below minus their credit limit. Top-up invoices are never checked.

        :param lock: lock the partner rows before reading their balance (at
            posting, so that two concurrent postings cannot both pass)
        :return: list of dicts with ``partner``, ``company``, ``mode``,
            ``limit``, ``exposure`` and ``excess`` (company currency)
        """
        amounts_by_key = defaultdict(float)
        for move in self:
            if (
                move.state != "draft"
                or move.move_type not in ("out_invoice", "out_receipt")
                or not move.partner_id
            ):
                continue
            company = move.company_id
            partner = move.commercial_partner_id.with_company(company)
            if partner.billing_mode != "prepaid" and not (
                company.account_use_credit_limit
                and company.credit_limit_policy == "block"
            ):
                continue
            if move._billing_is_topup():
                continue
            amount = (
                move._billing_exposure_amount()
                - move._get_partner_credit_warning_exclude_amount()
            )
            amounts_by_key[(company, partner)] += amount
        if lock and amounts_by_key:
            partners = self.env["res.partner"].browse(
                sorted({partner.id for (_company, partner) in amounts_by_key})
            )
            partners._billing_lock()
        # one read of the books per company, whatever the number of customers
        partners_by_company = defaultdict(lambda: self.env["res.partner"])
        for company, partner in amounts_by_key:
            partners_by_company[company] |= partner
        balances = {
            (company, partner_id): values["balance"]
            for company, partners in partners_by_company.items()
            for partner_id, values in partners._prepaid_get_amounts(company).items()
        }
        excesses = []
        for (company, partner), amount in amounts_by_key.items():
            currency = company.currency_id
            partner_sudo = partner.sudo()
            limit = partner_sudo.credit_limit
            mode = partner.billing_mode or "postpaid"
            if mode == "postpaid" and float_is_zero(
                limit, precision_rounding=currency.rounding
            ):
                continue
            balance = balances[(company, partner.id)]
            exposure = currency.round(
                -balance + amount + (partner_sudo.credit_to_invoice or 0.0)
            )
            excess = currency.round(exposure - limit)
            if float_compare(excess, 0.0, precision_rounding=currency.rounding) > 0:
                excesses.append(
                    {
                        "partner": partner,
                        "company": company,
                        "mode": mode,
                        "limit": limit,
                        "exposure": exposure,
                        "excess": excess,
                    }
                )
        return excesses

    def _billing_excess_message(self, excesses):
        lines = []
        for excess in excesses:
            currency = excess["company"].currency_id
            values = {
                "partner": excess["partner"].display_name,
                "limit": currency.format(excess["limit"]),
                "exposure": currency.format(excess["exposure"]),
                "excess": currency.format(excess["excess"]),
            }
            if excess["mode"] == "prepaid":
                lines.append(
                    _(
                        "%(partner)s (prepaid) would use %(exposure)s more than "
                        "their prepaid balance, beyond the credit limit of "
                        "%(limit)s by %(excess)s.",
                        **values,
                    )
                )
            else:
                lines.append(
                    _(
                        "%(partner)s: credit limit %(limit)s, exposure with these "
                        "documents %(exposure)s, excess %(excess)s.",
                        **values,
                    )
                )
        return "\n".join(
            [_("Posting is refused: the credit limit would be exceeded.")]
            + lines
            + [
                _(
                    "Ask for a payment or a top-up, raise the credit limit, or ask a "
                    "manager to override."
                )
            ]
        )

    def _billing_may_override(self):
        return bool(self.env.context.get(OVERRIDE_LIMIT_KEY)) and (
            self.env.su
            or self.env.user.has_group("installment_credit.group_installment_manager")
        )

    def _billing_check_limits(self, soft=True):
        """Refuse posting beyond credit limits, unless a manager overrides."""
        if self._billing_may_override():
            return
        to_check = self
        if soft:
            today = fields.Date.context_today(self)
            to_check = self.filtered(lambda move: move.date <= today)
        excesses = to_check._billing_credit_limit_excess(lock=True)
        if excesses:
            raise UserError(self._billing_excess_message(excesses))

    def _billing_after_post(self):
        """Remember posted top-up invoices on their customer; settle prepaid
        customers' other newly posted documents from their balance, then create
        their auto top-up invoices when the balance fell low."""
        docs = self.filtered(
            lambda move: (
                move.move_type in ("out_invoice", "out_receipt", "out_refund")
                and move.partner_id
            )
        )
        topups = docs.filtered(
            lambda move: move.move_type == "out_invoice" and move._billing_is_topup()
        )
        for topup in topups:
            topup.commercial_partner_id.with_company(
                topup.company_id
            ).sudo().prepaid_topup_move_id = topup
        docs -= topups
        for company, moves in docs.grouped("company_id").items():
            partners = moves.commercial_partner_id.with_company(company).filtered(
                lambda p: p.billing_mode == "prepaid"
            )
            if not partners:
                continue
            partners._prepaid_apply_balance(company)
            if not self.env.context.get(NO_AUTO_TOPUP_KEY):
                partners._prepaid_auto_topup(company)

    def action_post(self):
        if not self.env.context.get(OVERRIDE_LIMIT_KEY) and self.env.user.has_group(
            "installment_credit.group_installment_manager"
        ):
            excesses = self._billing_credit_limit_excess()
            if excesses:
                wizard = self.env["credit.limit.override"].create(
                    {
                        "move_ids": [Command.set(self.ids)],
                        "message": self._billing_excess_message(excesses),
                    }
                )
                return {
                    "type": "ir.actions.act_window",
                    "name": _("Credit limit exceeded"),
                    "res_model": "credit.limit.override",
                    "res_id": wizard.id,
                    "view_mode": "form",
                    "target": "new",
                }
        return super().action_post()

    credit_grant_ids = fields.One2many(
        "credit.grant",
        "move_id",
        string="Credit grants",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_grant_count = fields.Integer(
        compute="_compute_credit_grant_count",
        groups="installment_credit.group_installment_user",
    )

    def _compute_credit_grant_count(self):
        counts = dict(
            self.env["credit.grant"]._read_group(
                [("move_id", "in", self.ids)], ["move_id"], ["__count"]
            )
        )
        for move in self:
            move.credit_grant_count = counts.get(move, 0)

    def action_view_credit_grants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_grant_action"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _credit_after_post(self):
        """Grants for package invoices (posted mode), cancellations for their
        credit notes."""
        posted = self
        invoices = posted.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.company_id.credit_availability == "posted"
            )
        )
        invoices._credit_create_grants()
        refunds = posted.filtered(
            lambda m: m.move_type == "out_refund" and m.reversed_entry_id
        )
        refunds._credit_cancel_refunded()

    def _invoice_paid_hook(self):
        # Odoo calls this hook once per transition to paid / in payment, from
        # the reconciliation itself (payment, statement line, manual matching):
        # more robust than watching the stored payment_state, which the ORM
        # recomputes without going through write(). Creation is idempotent
        # (lines already granted are skipped), so in_payment -> paid is harmless.
        res = super()._invoice_paid_hook()
        self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.company_id.credit_availability == "paid"
            )
        )._credit_create_grants()
        return res

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _credit_package_lines(self):
        """Map invoice line -> credit.package for lines selling a package."""
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id
        )
        if not lines:
            return {}
        packages = (
            self.env["credit.package"]
            .sudo()
            .with_context(active_test=False)
            .search([("product_id", "in", lines.product_id.ids)])
        )
        by_product = {package.product_id: package for package in packages}
        return {
            line: by_product[line.product_id]
            for line in lines
            if line.product_id in by_product
        }

    def _credit_check_packages(self):
        """Before posting: packages sold must be sellable, recharges need a
        running subscription of each of their types."""
        Grant = self.env["credit.grant"].sudo()
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            for line, package in move._credit_package_lines().items():
                package._check_sellable()
                if line.quantity <= 0:
                    raise UserError(
                        _(
                            "Invoice %(invoice)s sells %(qty)s of package %(package)s: "
                            "sell a positive quantity (use a credit note to take "
                            "units back).",
                            invoice=move.display_name,
                            qty=line.quantity,
                            package=package.name,
                        )
                    )
                if package.company_id != move.company_id:
                    raise UserError(
                        _(
                            "Package %(package)s belongs to company %(company)s: "
                            "sell it from that company.",
                            package=package.name,
                            company=package.company_id.name,
                        )
                    )
                if package.package_kind != "recharge":
                    continue
                date = move.invoice_date or fields.Date.context_today(self)
                for ctype in package.line_ids.credit_type_id:
                    if not Grant._current_subscription_expiry(
                        move.commercial_partner_id, ctype, move.company_id, date
                    ):
                        raise UserError(
                            _(
                                "Recharge %(package)s on %(invoice)s adds %(type)s "
                                "to the current subscription of %(partner)s, who "
                                "has none on %(date)s: sell a subscription first.",
                                package=package.name,
                                invoice=move.display_name,
                                type=ctype.name,
                                partner=move.commercial_partner_id.display_name,
                                date=date,
                            )
                        )

    def _credit_refunded_quantities(self):
        """Package quantities already refunded by posted credit notes."""
        self.ensure_one()
        refunded = defaultdict(float)
        for refund in self.reversal_move_ids.filtered(lambda m: m.state == "posted"):
            for line, package in refund._credit_package_lines().items():
                refunded[package] += line.quantity
        return refunded

    def _credit_create_grants(self):
        """Create the grants of the packages sold on these posted invoices.

        Idempotent: invoice lines that already have grants are skipped. Net of
        credit notes posted before (availability on payment)."""
        Grant = self.env["credit.grant"].sudo()
        for move in self:
            package_lines = move._credit_package_lines()
            if not package_lines:
                continue
            done_lines = Grant.search(
                [
                    ("move_line_id", "in", [line.id for line in package_lines]),
                    ("state", "!=", "cancelled"),
                ]
            ).move_line_id
            refunded = move._credit_refunded_quantities()
            partner = move.commercial_partner_id
            date = move.invoice_date or move.date
            vals_list = []
            for line, package in package_lines.items():
                sold = line.quantity
                if refunded[package] > 0:
                    taken = min(sold, refunded[package])
                    refunded[package] -= taken
                    sold -= taken
                if line in done_lines or sold <= 0:
                    continue
                if package.package_kind == "subscription":
                    start = Grant._subscription_chain_start(partner, package, date)
                    expiry = package._get_expiry(start)
                for pline in package.line_ids:
                    ctype = pline.credit_type_id
                    if package.package_kind == "recharge":
                        start = date
                        # The subscription may have ended between posting and
                        # payment: the recharge then lives its own validity.
                        expiry = Grant._current_subscription_expiry(
                            partner, ctype, move.company_id, date
                        ) or package._get_expiry(date)
                    quantity = ctype._round(pline.quantity * sold)
                    if ctype._compare(quantity, 0.0) <= 0:
                        continue
                    vals_list.append(
                        {
                            "partner_id": partner.id,
                            "company_id": move.company_id.id,
                            "credit_type_id": ctype.id,
                            "package_id": package.id,
                            "move_line_id": line.id,
                            "move_id": move.id,
                            "quantity": quantity,
                            "date_start": start,
                            "date_expiry": expiry,
                        }
                    )
            if vals_list:
                Grant.create(vals_list)
                Grant.flush_model()

    def _credit_cancel_refunded(self):
        """Cancel the unused units refunded by these credit notes, refusing when
        the customer already consumed more than what remains."""
        for refund in self:
            invoice = refund.reversed_entry_id
            grants = invoice.sudo().credit_grant_ids.filtered(
                lambda g: g.state != "cancelled"
            )
            if not grants:
                # Nothing granted yet (availability on payment): the refunded
                # quantity is deducted when the invoice gets paid.
                continue
            grants._lock_for_update()
            to_cancel = defaultdict(float)
            for line, package in refund._credit_package_lines().items():
                for pline in package.line_ids:
                    to_cancel[package, pline.credit_type_id] += (
                        pline.quantity * line.quantity
                    )
            for (package, ctype), quantity in to_cancel.items():
                quantity = ctype._round(quantity)
                candidates = grants.filtered(
                    lambda g, p=package, t=ctype: (
                        g.package_id == p
                        and g.credit_type_id == t
                        and g.state == "active"
                    )
                ).sorted(lambda g: (g.date_expiry, g.id), reverse=True)
                available = ctype._round(sum(candidates.mapped("quantity_remaining")))
                if ctype._compare(quantity, available) > 0:
                    raise UserError(
                        _(
                            "Credit note %(refund)s cancels %(qty)s %(unit)s of "
                            "%(type)s sold on %(invoice)s, but only %(available)s "
                            "%(unit)s remain unused (the rest was consumed or has "
                            "expired). Reduce the quantity refunded.",
                            refund=refund.display_name,
                            qty=ctype._format(quantity),
                            unit=ctype.unit_name,
                            type=ctype.name,
                            invoice=invoice.display_name,
                            available=ctype._format(available),
                        )
                    )
                for grant in candidates:
                    if ctype._compare(quantity, 0.0) <= 0:
                        break
                    take = min(grant.quantity_remaining, quantity)
                    grant.quantity_cancelled = ctype._round(
                        grant.quantity_cancelled + take
                    )
                    quantity = ctype._round(quantity - take)

    def _credit_release_on_draft(self):
        """Resetting to draft withdraws the invoice's unused units; refused once
        some were consumed, or for a credit note that cancelled units."""
        moves = self.filtered(lambda m: m.state == "posted")
        grants = moves.sudo().credit_grant_ids.filtered(
            lambda g: g.state != "cancelled"
        )
        if grants:
            grants._lock_for_update()
            used = grants.filtered(
                lambda g: not g.credit_type_id._is_zero(g.quantity_consumed)
            )
            if used:
                raise UserError(
                    _(
                        "Units sold on %(invoice)s were already consumed: the "
                        "invoice cannot be reset to draft. Issue a credit note for "
                        "the unused units instead.",
                        invoice=used[0].move_id.display_name,
                    )
                )
            for grant in grants:
                grant.quantity_cancelled = grant.quantity
        # Once the invoice has grants, they reflect this credit note (units
        # cancelled, or granted net of it when availability is on payment).
        refunds = moves.filtered(
            lambda m: (
                m.move_type == "out_refund"
                and m.reversed_entry_id.sudo().credit_grant_ids
                and m._credit_package_lines()
            )
        )
        if refunds:
            raise UserError(
                _(
                    "Credit note %(refund)s took back credit units: it cannot be "
                    "reset to draft. Sell the package again on a new invoice.",
                    refund=refunds[0].display_name,
                )
            )
