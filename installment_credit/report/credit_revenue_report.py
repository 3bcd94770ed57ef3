# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.tools import SQL, drop_view_if_exists, format_date

from ..models.credit_type import CREDIT_DIGITS


class CreditRevenueReport(models.Model):
    """Deferred credit revenue: one row per movement of a deferred grant's
    value, signed as on the deferred revenue account (sale +, and − for what
    left it: recognised on use, breakage, credit notes). Summed over the rows
    dated up to a date, per customer and credit type, it is the deferred
    revenue at that date: the value of the units neither used nor expired."""

    _name = "credit.revenue.report"
    _description = "Deferred credit revenue"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "credit.grant": [
            "partner_id",
            "company_id",
            "credit_type_id",
            "quantity",
            "revenue_deferred",
            "revenue_value",
            "released",
            "move_id",
        ],
        "credit.revenue.line": [
            "grant_id",
            "date",
            "kind",
            "quantity",
            "amount",
        ],
    }

    grant_id = fields.Many2one("credit.grant", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    credit_type_id = fields.Many2one("credit.type", string="Credit type", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(readonly=True)
    kind = fields.Selection(
        [
            ("sale", "Sale"),
            ("credit", "Credit note"),
            ("consumption", "Recognised on use"),
            ("breakage", "Breakage"),
        ],
        readonly=True,
    )
    quantity = fields.Float(
        string="Units", digits=CREDIT_DIGITS, readonly=True, aggregator=False
    )
    amount = fields.Monetary(string="Deferred revenue", readonly=True)

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %s AS (
                    SELECT g.id * 2 AS id, g.id AS grant_id, g.partner_id,
                           g.company_id, g.credit_type_id, m.date,
                           'sale' AS kind, g.quantity, g.revenue_value AS amount
                      FROM credit_grant g
                      JOIN account_move m ON m.id = g.move_id
                     WHERE g.revenue_deferred AND NOT COALESCE(g.released, FALSE)
                    UNION ALL
                    SELECT l.id * 2 + 1, l.grant_id, g.partner_id, g.company_id,
                           g.credit_type_id, l.date, l.kind, -l.quantity,
                           -l.amount
                      FROM credit_revenue_line l
                      JOIN credit_grant g ON g.id = l.grant_id
                     WHERE NOT COALESCE(g.released, FALSE)
                )
                """,
                SQL.identifier(self._table),
            )
        )

    @api.model
    def _deferred_at(self, date, company=None):
        """``{(partner, credit_type): amount}`` deferred at the end of ``date``."""
        domain = [("date", "<=", date)]
        if company:
            domain.append(("company_id", "=", company.id))
        return {
            (partner, ctype): amount
            for partner, ctype, amount in self._read_group(
                domain, ["partner_id", "credit_type_id"], ["amount:sum"]
            )
        }


class CreditRevenueReportOpen(models.TransientModel):
    _name = "credit.revenue.report.open"
    _description = "Open the deferred credit revenue at a date"

    date = fields.Date(
        string="As of",
        required=True,
        default=fields.Date.context_today,
        help="Deferred revenue at the end of this day.",
    )

    def action_open(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_revenue_report_action"
        )
        action["name"] = action["display_name"] = _(
            "Deferred Credit Revenue as of %s", format_date(self.env, self.date)
        )
        action["domain"] = [("date", "<=", fields.Date.to_string(self.date))]
        action["target"] = "main"
        return action
