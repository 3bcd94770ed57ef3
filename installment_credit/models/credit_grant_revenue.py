# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, float_compare

from .credit_type import CREDIT_DIGITS


class CreditGrant(models.Model):
    """The value of a grant when its company recognises credit revenue on use.

    A grant is *deferred* when the invoice line that sold it posted to a
    deferred revenue account (the invoice was posted while the option was on).
    Its value (company currency) is the line's share of its units; what the
    daily run (``credit.revenue.run``) recognised, booked as breakage or what
    credit notes took back is kept here as running totals, quantities and
    values, so that no unit is valued twice and the rounding remainder goes to
    the last unit."""

    _inherit = "credit.grant"

    currency_id = fields.Many2one(related="company_id.currency_id")
    revenue_deferred = fields.Boolean(
        string="Deferred revenue",
        readonly=True,
        copy=False,
        help="Sold on an invoice line posted to a deferred revenue account: its "
        "value is recognised as its units are used or expire.",
    )
    revenue_value = fields.Monetary(
        string="Deferred value",
        readonly=True,
        copy=False,
        help="Value of the units in company currency: invoice line amount × "
        "units of this grant ÷ units sold by the line.",
    )
    revenue_unit_value = fields.Float(
        string="Unit value", digits=(16, 8), readonly=True, copy=False
    )
    revenue_deferred_account_id = fields.Many2one(
        "account.account", string="Deferred revenue account", readonly=True
    )
    revenue_account_id = fields.Many2one(
        "account.account",
        string="Income account",
        readonly=True,
        help="Account the value of the units used is recognised into.",
    )
    revenue_analytic_distribution = fields.Json(readonly=True, copy=False)
    revenue_consumed_qty = fields.Float(digits=CREDIT_DIGITS, readonly=True)
    revenue_consumed_value = fields.Monetary(string="Recognised", readonly=True)
    revenue_breakage_qty = fields.Float(digits=CREDIT_DIGITS, readonly=True)
    revenue_breakage_value = fields.Monetary(string="Breakage", readonly=True)
    revenue_credited_qty = fields.Float(digits=CREDIT_DIGITS, readonly=True)
    revenue_credited_value = fields.Monetary(
        string="Credited", readonly=True, help="Value taken back by credit notes."
    )

    def init(self):
        res = super().init()
        # The daily run looks for expired grants whose breakage is not booked.
        self.env.cr.execute(
            SQL(
                """
                CREATE INDEX IF NOT EXISTS credit_grant_revenue_breakage_index
                    ON credit_grant (company_id)
                 WHERE revenue_deferred AND state = 'expired'
                   AND quantity_expired <> COALESCE(revenue_breakage_qty, 0)
                """
            )
        )
        # ... and for the companies that have deferred grants at all.
        self.env.cr.execute(
            SQL(
                """
                CREATE INDEX IF NOT EXISTS credit_grant_revenue_company_index
                    ON credit_grant (company_id) WHERE revenue_deferred
                """
            )
        )
        return res

    @api.model_create_multi
    def create(self, vals_list):
        grants = super().create(vals_list)
        grants.filtered("move_line_id")._revenue_set_values()
        return grants

    def _revenue_set_values(self):
        """Value the grants of invoice lines posted to a deferred revenue
        account: the line's amount in company currency spread over the units
        it sells (package quantity × invoice quantity), the remainder on the
        line's last grant when the line's units are all granted."""
        by_line = defaultdict(lambda: self.browse())
        for grant in self:
            by_line[grant.move_line_id] += grant
        for line, grants in by_line.items():
            package = grants.package_id[:1]
            account = package and package._revenue_deferred_account()
            deferred_accounts = account | package.deferred_account_id
            deferred_accounts |= package.company_id.credit_deferred_account_id
            if not package or line.account_id not in deferred_accounts:
                continue
            currency = line.company_id.currency_id
            line_value = currency.round(-line.balance)
            if line.move_id.move_type == "out_refund":
                continue
            units = sum(pline.quantity * line.quantity for pline in package.line_ids)
            if float_compare(units, 0.0, precision_digits=6) <= 0:
                continue
            unit_value = line_value / units
            income = line.product_id.product_tmpl_id.with_company(
                line.company_id
            ).get_product_accounts(fiscal_pos=line.move_id.fiscal_position_id)["income"]
            granted = sum(grants.mapped("quantity"))
            all_granted = not float_compare(granted, units, precision_digits=6)
            left = line_value
            ordered = grants.sorted("id")
            for index, grant in enumerate(ordered):
                if all_granted and index == len(ordered) - 1:
                    value = left
                else:
                    value = currency.round(grant.quantity * unit_value)
                left = currency.round(left - value)
                grant.write(
                    {
                        "revenue_deferred": True,
                        "revenue_value": value,
                        "revenue_unit_value": unit_value,
                        "revenue_deferred_account_id": line.account_id.id,
                        "revenue_account_id": income.id,
                        "revenue_analytic_distribution": line.analytic_distribution
                        or False,
                    }
                )

    def _revenue_position_value(self, quantity, credited_qty, credited_value):
        """Value released (recognised + breakage) once ``quantity`` units of
        this grant are used or expired, given what credit notes took back: the
        units' value, rounded, never more than what is left deferred, and all
        of it once every unit not credited is used or expired."""
        self.ensure_one()
        currency = self.currency_id
        total = currency.round(self.revenue_value - credited_value)
        units = self.quantity - credited_qty
        if float_compare(quantity, units, precision_digits=6) >= 0:
            return total
        value = currency.round(quantity * self.revenue_unit_value)
        return min(value, total) if total >= 0 else value

    def _take_back(self, quantity):
        """Units a credit note takes back leave with their deferred value (the
        credit note reverses it on the deferred account): recorded as a
        ``credit`` revenue line, dated the credit note's date, nothing
        recognised for them."""
        deferred = self.filtered("revenue_deferred")
        before = {g: g.quantity_cancelled - g.quantity_withdrawn for g in deferred}
        rest = super()._take_back(quantity)
        if deferred:
            deferred._revenue_record_credited(before)
        return rest

    def _revenue_record_credited(self, before):
        date = self.env.context.get("credit_revenue_date") or fields.Date.context_today(
            self
        )
        rows = []
        for grant in self:
            currency = grant.currency_id
            credited = grant.quantity_cancelled - grant.quantity_withdrawn
            taken = credited - before[grant]
            if float_compare(taken, 0.0, precision_digits=6) <= 0:
                continue
            new_qty = grant.revenue_credited_qty + taken
            if not float_compare(new_qty, grant.quantity, precision_digits=6):
                new_value = grant.revenue_value
            else:
                new_value = currency.round(
                    grant.revenue_credited_value + taken * grant.revenue_unit_value
                )
            value = currency.round(new_value - grant.revenue_credited_value)
            grant.write(
                {"revenue_credited_qty": new_qty, "revenue_credited_value": new_value}
            )
            rows.append(
                {
                    "grant_id": grant.id,
                    "date": date,
                    "kind": "credit",
                    "quantity": taken,
                    "amount": value,
                }
            )
        if rows:
            self.env["credit.revenue.line"].sudo()._insert(rows)
