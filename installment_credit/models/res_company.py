from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..tools import schedule

# Company policy the credit-limit and prepaid checks rely on: managers only.
LIMIT_POLICY_FIELDS = (
    "account_use_credit_limit",
    "billing_limit_policy",
    "prepayment_account_id",
    "prepaid_product_id",
    "prepaid_journal_id",
)


class ResCompany(models.Model):
    _inherit = "res.company"

    # Fields, one block per capability

    # Installment agreements: due dates on non-working days
    installment_working_day_policy = fields.Selection(
        [
            ("keep", "Keep the date"),
            ("next", "Move to the next working day"),
            ("previous", "Move to the previous working day"),
            ("modified_following", "Modified following (banks' convention)"),
        ],
        string="Installment Due Dates on Non-Working Days",
        # New companies follow the banks' convention; a column added at
        # install takes it too, existing values are kept on upgrade.
        default="modified_following",
        required=True,
        help="What happens to an installment due date that falls on a weekend day "
        "or a public holiday of the company's working calendar. Modified "
        "following moves it to the next working day, unless that is in the next "
        "month, then to the previous working day: monthly schedules keep one "
        "due date per month (from 12/30/2026: 01/29, 02/26, 03/30 rather than "
        "02/01, 03/01, 03/30).",
    )

    # Prepaid and postpaid customers
    billing_limit_policy = fields.Selection(
        [("warn", "Warn"), ("block", "Block")],
        default="warn",
        required=True,
        help="Warn: Odoo's banner on draft invoices of customers over their credit "
        "limit. Block: posting an invoice that takes a postpaid customer above the "
        "limit is refused (managers may override with a reason).",
    )
    prepayment_account_id = fields.Many2one(
        "account.account",
        string="Customer Prepayment Account",
        check_company=True,
        domain="[('account_type', 'in', ('liability_current', "
        "'liability_non_current'))]",
        help="Liability account holding what prepaid customers paid in advance and "
        "have not used yet. Its partner balance is the prepaid balance.",
    )
    prepaid_product_id = fields.Many2one(
        "product.product",
        string="Prepaid Credit Product",
        check_company=True,
        help="Service sold on top-up invoices. Its income account must be the "
        "customer prepayment account.",
    )
    prepaid_journal_id = fields.Many2one(
        "account.journal",
        string="Prepaid Settlement Journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Miscellaneous journal for the entries settling prepaid customers' "
        "invoices from their balance. Defaults to the first miscellaneous journal.",
    )

    # Credit packages
    credit_availability = fields.Selection(
        [("posted", "When the invoice is posted"), ("paid", "When it is paid")],
        string="Credits usable",
        default="posted",
        required=True,
        help="When the units of a credit package sold on a customer invoice can be "
        "consumed.",
    )
    credit_expiry_notice_days = fields.Integer(
        string="Expiry notice (days)",
        default=7,
        help="Customers get one email per grant this many days before it expires "
        "(0: no email).",
    )
    credit_renewal_days = fields.Integer(
        string="Renew subscriptions (days before expiry)",
        default=7,
        help="Subscriptions set to auto-renew get their renewal invoice this many "
        "days before they expire.",
    )
    credit_renewal_mode = fields.Selection(
        [
            ("post", "Post and send the invoice"),
            ("draft", "Leave the invoice in draft for review"),
        ],
        string="Renewal invoices",
        default="draft",
        required=True,
    )

    # ------------------------------------------------------------------
    # Installment agreements: working days
    # ------------------------------------------------------------------
    def _installment_working_day_predicate(self, date_from, date_to):
        """A ``date -> bool`` telling whether the company works that day.

        Weekdays come from the working calendar's attendances, public holidays
        from its global leaves; both are read once for the whole range so the
        predicate itself runs no query.
        """
        self.ensure_one()
        calendar = self.resource_calendar_id
        if not calendar:
            return lambda day: True
        worked_weekdays = {int(d) for d in calendar.attendance_ids.mapped("dayofweek")}
        tz = pytz.timezone(calendar.tz or "UTC")
        margin = timedelta(days=400)  # room for shifts past the last date
        start = tz.localize(datetime.combine(date_from - margin, time.min))
        end = tz.localize(datetime.combine(date_to + margin, time.max))
        leaves = self.env["resource.calendar.leaves"].search(
            [
                ("resource_id", "=", False),
                ("calendar_id", "in", [calendar.id, False]),
                ("company_id", "in", [self.id, False]),
                ("date_from", "<=", end.astimezone(pytz.utc).replace(tzinfo=None)),
                ("date_to", ">=", start.astimezone(pytz.utc).replace(tzinfo=None)),
            ]
        )
        holidays = set()
        for leave in leaves:
            day = pytz.utc.localize(leave.date_from).astimezone(tz).date()
            last = pytz.utc.localize(leave.date_to).astimezone(tz).date()
            while day <= last:
                holidays.add(day)
                day += timedelta(days=1)
        if not worked_weekdays:
            return lambda day: day not in holidays
        return lambda day: day.weekday() in worked_weekdays and day not in holidays

    def _installment_shift_dates(self, dates):
        """Apply the company's working-day policy to ``dates`` (order kept)."""
        self.ensure_one()
        if not dates or self.installment_working_day_policy == "keep":
            return list(dates)
        predicate = self._installment_working_day_predicate(min(dates), max(dates))
        return schedule.shift_dates(
            dates, self.installment_working_day_policy, predicate
        )

    def _installment_moved_dates(self, dates):
        """``[(date, moved_from)]``: ``dates`` after the working-day policy,
        each with the date it was moved from (``None`` if kept), for the
        previews that mark moved dates."""
        return schedule.moved_dates(dates, self._installment_shift_dates(dates))

    # ------------------------------------------------------------------
    # Prepaid and postpaid customers
    # ------------------------------------------------------------------
    @api.constrains("prepayment_account_id", "prepaid_product_id")
    def _check_prepaid_configuration(self):
        for company in self:
            account = company.prepayment_account_id
            if account and account.account_type not in (
                "liability_current",
                "liability_non_current",
            ):
                raise ValidationError(
                    _(
                        "The customer prepayment account %(account)s must be a "
                        "liability account: prepaid balances are money the company "
                        "owes its customers.",
                        account=account.display_name,
                    )
                )
            product = company.prepaid_product_id
            if not product:
                continue
            if not account:
                raise ValidationError(
                    _(
                        "Set the customer prepayment account before the prepaid "
                        "credit product."
                    )
                )
            if product.type != "service":
                raise ValidationError(
                    _(
                        "The prepaid credit product %(product)s must be a service.",
                        product=product.display_name,
                    )
                )
            income = product.with_company(
                company
            ).product_tmpl_id._get_product_accounts()["income"]
            if income != account:
                raise ValidationError(
                    _(
                        "The income account of the prepaid credit product "
                        "%(product)s is %(income)s; set it to the customer "
                        "prepayment account %(account)s so that top-up invoices "
                        "credit the prepayment account.",
                        product=product.display_name,
                        income=income.display_name or _("(none)"),
                        account=account.display_name,
                    )
                )

    def write(self, vals):
        changed = [
            fname
            for fname in LIMIT_POLICY_FIELDS
            if fname in vals
            and any(
                company[fname]
                != self._fields[fname].convert_to_record(
                    self._fields[fname].convert_to_cache(vals[fname], company),
                    company,
                )
                for company in self.sudo()
            )
        ]
        if (
            changed
            and not self.env.su
            and not self.env.user.has_group(
                "installment_credit.group_installment_manager"
            )
        ):
            raise AccessError(
                _(
                    "Only Installments & Credits managers can change the credit "
                    "limit policy and prepaid settings of a company (%(fields)s). "
                    "Ask a manager to make this change.",
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in changed
                    ),
                )
            )
        return super().write(vals)

    def _get_prepaid_journal(self):
        """Return the journal of prepaid settlement entries for this company."""
        self.ensure_one()
        return self.prepaid_journal_id or self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self),
                ("type", "=", "general"),
            ],
            limit=1,
        )

    # ------------------------------------------------------------------
    # Credit packages
    # ------------------------------------------------------------------
    @api.constrains("credit_renewal_days")
    def _check_credit_renewal_days(self):
        for company in self:
            if company.credit_renewal_days < 0:
                raise ValidationError(
                    _(
                        "Subscriptions of %(company)s cannot be renewed after they "
                        "expire: set the renewal to zero or more days before expiry.",
                        company=company.name,
                    )
                )

    @api.constrains("credit_expiry_notice_days")
    def _check_credit_expiry_notice_days(self):
        for company in self:
            if company.credit_expiry_notice_days < 0:
                raise ValidationError(
                    _(
                        "The credit expiry notice of %(company)s must be zero (no "
                        "email) or a number of days before expiry.",
                        company=company.name,
                    )
                )
