import itertools
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount, format_date

from ..tools import schedule

FIXED_DATE_FIELDS = ("installment_date_2", "installment_date_3", "installment_date_4")


class AccountPaymentTerm(models.Model):
    """Installment schemes on payment terms.

    When ``installment_enabled`` is on, the term's computation (the native
    ``_compute_terms``) produces one receivable line per installment from the
    shared schedule engine; the native percentage lines are not used.
    """

    _inherit = "account.payment.term"

    installment_enabled = fields.Boolean(
        string="Installment Scheme",
        help="Split invoices using this term into installments computed from the "
        "rules below instead of the percentage lines.",
    )
    installment_count = fields.Integer(string="Number of Installments", default=3)
    installment_first_type = fields.Selection(
        [
            ("invoice_date", "On the invoice date"),
            ("after_days", "Days after the invoice date"),
            ("day_of_month", "On a day of the month"),
            ("fixed_date", "On a fixed date"),
        ],
        string="First Installment",
        default="after_days",
        required=True,
    )
    installment_first_days = fields.Integer(string="Days After Invoice", default=30)
    installment_first_day_of_month = fields.Integer(string="Day of Month", default=1)
    installment_date_1 = fields.Date(
        string="1st Installment On",
        help="Absolute date of the first installment (First Installment: On a "
        "fixed date). Invoices dated after it are refused at posting: keep it "
        "current.",
    )
    installment_date_2 = fields.Date(string="2nd Installment On")
    installment_date_3 = fields.Date(string="3rd Installment On")
    installment_date_4 = fields.Date(string="4th Installment On")
    installment_interval_number = fields.Integer(string="Every", default=1)
    installment_interval_unit = fields.Selection(
        [("day", "Days"), ("week", "Weeks"), ("month", "Months")],
        string="Interval Unit",
        default="month",
        required=True,
    )
    installment_day_mode = fields.Selection(
        [
            ("same_as_first", "Same day as the first installment"),
            ("day_of_month", "On a day of the month (monthly recurrences)"),
            ("weekday", "On a day of the week (weekly recurrences)"),
        ],
        string="Recurring Day",
        default="same_as_first",
        required=True,
        help="A day of the month applies to recurrences in months, a day of the "
        "week to recurrences in weeks; recurrences in days follow the previous "
        "installment.",
    )
    installment_recurring_day = fields.Integer(
        string="Recurring Day of Month", default=1
    )
    installment_recurring_weekday = fields.Selection(
        [
            ("0", "Monday"),
            ("1", "Tuesday"),
            ("2", "Wednesday"),
            ("3", "Thursday"),
            ("4", "Friday"),
            ("5", "Saturday"),
            ("6", "Sunday"),
        ],
        string="Recurring Day of Week",
        default="0",
        help="Weekly recurrences: each installment on the first such day after "
        "the interval (every 2 weeks on Monday from a Friday: the Monday 10 "
        "days later).",
    )

    @api.constrains(
        "installment_enabled",
        "installment_count",
        "installment_first_type",
        "installment_first_days",
        "installment_first_day_of_month",
        "installment_interval_number",
        "installment_day_mode",
        "installment_recurring_day",
        "installment_recurring_weekday",
        "installment_date_1",
        *FIXED_DATE_FIELDS,
    )
    def _check_installment_scheme(self):
        for term in self.filtered("installment_enabled"):
            if not 1 <= term.installment_count <= schedule.MAX_INSTALLMENTS:
                raise ValidationError(
                    _(
                        "%(term)s: the number of installments must be between 1 and "
                        "%(max)s.",
                        term=term.name,
                        max=schedule.MAX_INSTALLMENTS,
                    )
                )
            if term.installment_interval_number < 1:
                raise ValidationError(
                    _("%s: the recurrence interval must be at least 1.", term.name)
                )
            if term.installment_first_type == "after_days" and (
                term.installment_first_days < 0
            ):
                raise ValidationError(
                    _(
                        "%s: the days after the invoice date cannot be negative.",
                        term.name,
                    )
                )
            days = []
            if term.installment_first_type == "day_of_month":
                days.append(term.installment_first_day_of_month)
            if term.installment_day_mode == "day_of_month":
                days.append(term.installment_recurring_day)
            if any(not 1 <= day <= 31 for day in days):
                raise ValidationError(
                    _("%s: days of the month must be between 1 and 31.", term.name)
                )
            if (
                term.installment_first_type == "fixed_date"
                and not term.installment_date_1
            ):
                raise ValidationError(
                    _(
                        "%s: the first installment is on a fixed date; set the "
                        "date of the 1st installment.",
                        term.name,
                    )
                )
            unit_of_mode = {"day_of_month": "month", "weekday": "week"}
            if unit_of_mode.get(
                term.installment_day_mode, term.installment_interval_unit
            ) != (term.installment_interval_unit):
                raise ValidationError(
                    _(
                        "%(term)s: the recurring day %(mode)s applies to "
                        "recurrences in %(unit)s only. Choose another recurring "
                        "day, or recur in %(unit)s.",
                        term=term.name,
                        mode=dict(
                            term._fields["installment_day_mode"]._description_selection(
                                self.env
                            )
                        )[term.installment_day_mode],
                        unit=_("months")
                        if term.installment_day_mode == "day_of_month"
                        else _("weeks"),
                    )
                )
            if (
                term.installment_interval_unit == "week"
                and term.installment_day_mode == "weekday"
                and not term.installment_recurring_weekday
            ):
                raise ValidationError(
                    _(
                        "%s: weekly installments on a day of the week need that "
                        "day: choose it under Recurring Day of Week.",
                        term.name,
                    )
                )
            fixed = term._installment_fixed_dates()
            last_position = max(fixed, default=0) + 1
            if term.installment_count < last_position:
                raise ValidationError(
                    _(
                        "%(term)s has a fixed date for installment %(pos)s but only "
                        "%(count)s installments: raise the number of installments or "
                        "clear that date.",
                        term=term.name,
                        pos=last_position,
                        count=term.installment_count,
                    )
                )
            if term.installment_first_type == "fixed_date":
                fixed[0] = term.installment_date_1
            ordered = [fixed[key] for key in sorted(fixed)]
            if any(b <= a for a, b in itertools.pairwise(ordered)):
                raise ValidationError(
                    _(
                        "%s: the fixed installment dates must be increasing "
                        "(1st before 2nd before 3rd before 4th).",
                        term.name,
                    )
                )

    def _installment_fixed_dates(self):
        """``{installment index (0-based): date}`` of the fixed dates set."""
        self.ensure_one()
        return {
            index: self[fname]
            for index, fname in enumerate(FIXED_DATE_FIELDS, start=1)
            if self[fname]
        }

    def _installment_first_date(self, date_ref):
        self.ensure_one()
        if self.installment_first_type == "invoice_date":
            return date_ref
        if self.installment_first_type == "after_days":
            return date_ref + timedelta(days=self.installment_first_days)
        if self.installment_first_type == "fixed_date":
            return self.installment_date_1
        return schedule.first_day_of_month_on_or_after(
            date_ref, self.installment_first_day_of_month
        )

    def _installment_raw_dates(self, date_ref):
        """Scheme dates before the working-day shift.

        :raise UserError: when a fixed date is not after the installment before
            it (absolute dates must be kept current by admins).
        """
        self.ensure_one()
        date_ref = fields.Date.to_date(date_ref) or fields.Date.context_today(self)
        first = self._installment_first_date(date_ref)
        if self.installment_first_type == "fixed_date" and (
            not first or first < date_ref
        ):
            raise UserError(
                _(
                    "Payment term %(term)s cannot schedule an invoice dated %(date)s: "
                    "its 1st installment is fixed on %(first)s, before the invoice "
                    "date. Update its fixed installment dates.",
                    term=self.name,
                    date=format_date(self.env, date_ref),
                    first=format_date(self.env, first) if first else _("(no date)"),
                )
            )
        try:
            return schedule.recurring_dates(
                first,
                self.installment_count,
                self.installment_interval_number,
                self.installment_interval_unit,
                fixed_dates=self._installment_fixed_dates(),
                day_mode=self.installment_day_mode,
                recurring_day=int(self.installment_recurring_weekday or 0)
                if self.installment_day_mode == "weekday"
                else self.installment_recurring_day,
            )
        except schedule.ScheduleError as error:
            raise UserError(
                _(
                    "Payment term %(term)s cannot schedule an invoice dated %(date)s: "
                    "%(reason)s Update its fixed installment dates.",
                    term=self.name,
                    date=format_date(self.env, date_ref),
                    reason=str(error),
                )
            ) from error

    def _installment_check_dates(self, date_ref):
        """Refuse an invoice date for which the scheme's fixed dates are stale.
        Only fixed dates can be out of order, so other schemes cost nothing."""
        self.ensure_one()
        if (
            self._installment_fixed_dates()
            or self.installment_first_type == "fixed_date"
        ):
            self._installment_raw_dates(date_ref)

    def _installment_dates(self, date_ref, company):
        """Installment due dates of this scheme for an invoice dated
        ``date_ref``, moved to working days by ``company``'s policy."""
        self.ensure_one()
        dates = self._installment_raw_dates(date_ref)
        return (company or self.env.company)._installment_shift_dates(dates)

    def _compute_terms(
        self,
        date_ref,
        currency,
        company,
        tax_amount,
        tax_amount_currency,
        sign,
        untaxed_amount,
        untaxed_amount_currency,
        cash_rounding=None,
    ):
        if not self.installment_enabled:
            return super()._compute_terms(
                date_ref,
                currency,
                company,
                tax_amount,
                tax_amount_currency,
                sign,
                untaxed_amount,
                untaxed_amount_currency,
                cash_rounding=cash_rounding,
            )
        self.ensure_one()
        total = tax_amount + untaxed_amount
        total_currency = tax_amount_currency + untaxed_amount_currency
        try:
            dates = self._installment_dates(date_ref, company)
        except UserError:
            # A draft may be temporarily inconsistent (e.g. an old invoice date);
            # posting refuses it with the message (see account.move._post).
            dates = [
                fields.Date.to_date(date_ref) or fields.Date.context_today(self)
            ] * self.installment_count
        company_parts = _split_signed(total, len(dates), company.currency_id)
        foreign_parts = _split_signed(total_currency, len(dates), currency)
        return {
            "total_amount": total,
            "discount_percentage": 0.0,
            "discount_date": False,
            "discount_balance": 0,
            "line_ids": [
                {"date": due, "company_amount": amount, "foreign_amount": foreign}
                for due, amount, foreign in zip(
                    dates, company_parts, foreign_parts, strict=True
                )
            ],
        }

    @api.depends(
        "currency_id",
        "example_amount",
        "example_date",
        "line_ids.value",
        "line_ids.value_amount",
        "line_ids.nb_days",
        "early_discount",
        "discount_percentage",
        "discount_days",
        "installment_enabled",
        "installment_count",
        "installment_first_type",
        "installment_first_days",
        "installment_first_day_of_month",
        "installment_interval_number",
        "installment_interval_unit",
        "installment_day_mode",
        "installment_recurring_day",
        "installment_recurring_weekday",
        "installment_date_1",
        *FIXED_DATE_FIELDS,
    )
    def _compute_example_preview(self):
        valid = self.filtered(
            lambda term: (
                not term.installment_enabled
                or 1 <= term.installment_count <= schedule.MAX_INSTALLMENTS
                and term.installment_interval_number >= 1
            )
        )
        (self - valid).example_preview = False
        (self - valid).example_preview_discount = False
        result = super(AccountPaymentTerm, valid)._compute_example_preview()
        for term in valid.filtered(
            lambda t: t.installment_enabled and not t.example_invalid
        ):
            term.example_preview = term._installment_example_preview()
        return result

    def _installment_example_preview(self):
        """The term's preview for an installment scheme: every installment
        with its date, a date moved to a working day marked with the date it
        was moved from."""
        self.ensure_one()
        currency = self.currency_id
        date_ref = self.example_date or fields.Date.context_today(self)
        try:
            raw = self._installment_raw_dates(date_ref)
        except UserError as error:
            return Markup("<div class='text-danger'>%s</div>") % error.args[0]
        moved = self.env.company._installment_moved_dates(raw)
        amounts = _split_signed(self.example_amount, len(moved), currency)
        rows = []
        for index, ((due, moved_from), amount) in enumerate(
            zip(moved, amounts, strict=True), start=1
        ):
            row = Markup("<b>%s#</b> %s <b style='color: #704A66;'>%s</b>") % (
                index,
                _(
                    "Installment of %(amount)s due on",
                    amount=format_amount(self.env, amount, currency),
                ),
                format_date(self.env, due),
            )
            if moved_from:
                row += Markup(
                    " <span class='text-muted o_installment_moved'>%s</span>"
                ) % (
                    _(
                        "(moved from %s, a non-working day)",
                        format_date(self.env, moved_from),
                    )
                )
            rows.append(Markup("<div>%s</div>") % row)
        return Markup("").join(rows)


def _split_signed(total, count, currency):
    """Even split of a signed amount; zero totals give zero parts."""
    if currency.is_zero(total):
        return [0.0] * count
    sign = -1 if total < 0 else 1
    try:
        parts = schedule.split_even(
            abs(total), count, currency.round, currency.rounding
        )
    except schedule.ScheduleError:
        # Too small to split: everything on the last installment.
        parts = [0.0] * (count - 1) + [currency.round(abs(total))]
    return [sign * part for part in parts]
