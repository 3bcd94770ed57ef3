import itertools
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

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
        ],
        string="First Installment",
        default="after_days",
        required=True,
    )
    installment_first_days = fields.Integer(string="Days After Invoice", default=30)
    installment_first_day_of_month = fields.Integer(string="Day of Month", default=1)
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
            ("day_of_month", "On a day of the month"),
        ],
        string="Recurring Day",
        default="same_as_first",
        required=True,
    )
    installment_recurring_day = fields.Integer(
        string="Recurring Day of Month", default=1
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
            ordered = [fixed[key] for key in sorted(fixed)]
            if any(b <= a for a, b in itertools.pairwise(ordered)):
                raise ValidationError(
                    _(
                        "%s: the fixed installment dates must be increasing "
                        "(2nd before 3rd before 4th).",
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
        try:
            return schedule.recurring_dates(
                first,
                self.installment_count,
                self.installment_interval_number,
                self.installment_interval_unit,
                fixed_dates=self._installment_fixed_dates(),
                day_mode=self.installment_day_mode,
                recurring_day=self.installment_recurring_day,
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
        if self._installment_fixed_dates():
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
        return super(AccountPaymentTerm, valid)._compute_example_preview()


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
