# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL, drop_view_if_exists

from ..models.credit_type import CREDIT_DIGITS


class CreditReportBalance(models.Model):
    """Credit balance per customer and credit type, from the grant ledger, on a
    date (the context key ``credit_status_date``, today by default).

    The one status query: the Credit Balance report, the customer's Credits tab
    and ``res.partner.get_credit_status`` all read ``_status_query``.
    """

    _name = "credit.report.balance"
    _inherit = ["credit.unit.totals.mixin"]
    _description = "Credit balance per customer and type"
    _auto = False
    _credit_unit_fields = (
        "quantity_sold",
        "quantity_consumed",
        "quantity_expired",
        "quantity_remaining",
        "quantity_upcoming",
        "next_expiry_quantity",
        "consumed_this_month",
    )
    _order = "partner_id, credit_type_id"
    # Reading the report flushes what it is computed from (grants and
    # consumptions created or changed earlier in the same transaction).
    _depends = {
        "credit.grant": [
            "partner_id",
            "company_id",
            "credit_type_id",
            "state",
            "quantity",
            "quantity_cancelled",
            "quantity_consumed",
            "quantity_expired",
            "quantity_remaining",
            "date_start",
            "date_expiry",
        ],
        "credit.consumption": [
            "partner_id",
            "credit_type_id",
            "state",
            "date",
            "quantity",
        ],
    }

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    credit_type_id = fields.Many2one("credit.type", string="Credit type", readonly=True)
    unit_name = fields.Char(related="credit_type_id.unit_name")
    credit_decimals = fields.Integer(related="credit_type_id.decimal_places")
    quantity_sold = fields.Float(string="Granted", digits=CREDIT_DIGITS, readonly=True)
    quantity_consumed = fields.Float(
        string="Consumed", digits=CREDIT_DIGITS, readonly=True
    )
    quantity_expired = fields.Float(
        string="Expired", digits=CREDIT_DIGITS, readonly=True
    )
    quantity_remaining = fields.Float(
        string="Remaining",
        digits=CREDIT_DIGITS,
        readonly=True,
        help="Units usable on the date: granted, started and not expired.",
    )
    quantity_upcoming = fields.Float(
        string="Upcoming",
        digits=CREDIT_DIGITS,
        readonly=True,
        help="Units of subscriptions already sold for a later period.",
    )
    next_expiry = fields.Date(readonly=True)
    next_expiry_quantity = fields.Float(
        string="Expiring next", digits=CREDIT_DIGITS, readonly=True
    )
    consumed_this_month = fields.Float(digits=CREDIT_DIGITS, readonly=True)

    @api.model
    def _status_date(self):
        date = self.env.context.get("credit_status_date")
        return fields.Date.to_date(date) if date else fields.Date.context_today(self)

    @property
    def _table_query(self):
        return self._status_query(self._status_date())

    @api.model
    def _status_query(self, date, grant_domain=None):
        """Per (customer, company, credit type) on ``date``: units granted,
        consumed, expired, usable (the grants ``credit.grant._usable_domain``
        selects: started, not expired, the sweep run or not), upcoming (active
        grants starting later), the next expiry date and its quantity, units
        consumed in the month of ``date``.

        Grants past their expiry date that the daily sweep has not marked yet
        count as expired, so granted = consumed + expired + remaining +
        upcoming for every row.

        :param grant_domain: restrict to the grants the current user can read
            in this domain (record rules applied); ``None``: every grant (the
            report's own access rights and record rules apply then)
        """
        today = fields.Date.context_today(self)
        grants = SQL("credit_grant")
        if grant_domain is not None:
            grants = SQL(
                "(SELECT * FROM credit_grant WHERE id IN %s)",
                self.env["credit.grant"]._search(grant_domain).subselect(),
            )
        return SQL(
            """
            WITH grant_status AS (
                SELECT g.*,
                       g.state = 'active' AND g.date_start <= %(date)s
                           AND g.date_expiry > GREATEST(%(date)s, %(today)s)
                           AS usable,
                       g.state = 'active'
                           AND g.date_expiry <= GREATEST(%(date)s, %(today)s)
                           AS lapsed
                  FROM %(grants)s g
            ), grant_next AS (
                SELECT grant_status.*,
                       MIN(date_expiry) FILTER (WHERE usable) OVER (
                           PARTITION BY partner_id, company_id, credit_type_id
                       ) AS next_expiry
                  FROM grant_status
            )
            SELECT balance.*,
                   COALESCE(month.quantity, 0) AS consumed_this_month
              FROM (
                SELECT MIN(g.id) AS id,
                       g.partner_id,
                       g.company_id,
                       g.credit_type_id,
                       SUM(g.quantity - COALESCE(g.quantity_cancelled, 0))
                           AS quantity_sold,
                       SUM(COALESCE(g.quantity_consumed, 0)) AS quantity_consumed,
                       SUM(COALESCE(g.quantity_expired, 0)
                           + CASE WHEN g.lapsed THEN g.quantity_remaining ELSE 0 END)
                           AS quantity_expired,
                       SUM(CASE WHEN g.usable THEN g.quantity_remaining ELSE 0 END)
                           AS quantity_remaining,
                       SUM(CASE WHEN g.state = 'active' AND g.date_start > %(date)s
                                THEN g.quantity_remaining ELSE 0 END)
                           AS quantity_upcoming,
                       MIN(g.next_expiry) AS next_expiry,
                       SUM(CASE WHEN g.usable AND g.date_expiry = g.next_expiry
                                THEN g.quantity_remaining ELSE 0 END)
                           AS next_expiry_quantity
                  FROM grant_next g
              GROUP BY g.partner_id, g.company_id, g.credit_type_id
              ) balance
         -- once per customer and type, not once per grant
         LEFT JOIN LATERAL (
                    SELECT SUM(c.quantity) AS quantity
                      FROM credit_consumption c
                     WHERE c.partner_id = balance.partner_id
                       AND c.credit_type_id = balance.credit_type_id
                       AND c.state = 'done'
                       AND c.date >= %(month_start)s
                       AND c.date < %(month_end)s
                   ) month ON TRUE
            """,
            date=date,
            today=today,
            grants=grants,
            month_start=date.replace(day=1),
            month_end=date.replace(day=1) + relativedelta(months=1),
        )

    @api.model
    def _status_by_partner_type(self, partners, date=None):
        """``{(commercial partner, credit type): values}`` on ``date`` for the
        grants of ``partners`` the current user may read, in one query."""
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        partners = partners.commercial_partner_id
        self.env["credit.grant"].flush_model()
        self.env["credit.consumption"].flush_model()
        rows = self.env.execute_query_dict(
            self._status_query(date, [("partner_id", "in", partners.ids)])
        )
        Partner, Type = self.env["res.partner"], self.env["credit.type"]
        return {
            (Partner.browse(row["partner_id"]), Type.browse(row["credit_type_id"])): {
                "remaining": row["quantity_remaining"],
                "next_expiry": row["next_expiry"] or False,
                "next_expiry_quantity": row["next_expiry_quantity"],
                "consumed_this_month": row["consumed_this_month"],
                "upcoming": row["quantity_upcoming"],
            }
            for row in rows
        }


class CreditReportPackageSale(models.Model):
    """Packages sold on posted customer invoices, net of credit notes."""

    _name = "credit.report.package.sale"
    _description = "Credit packages sold"
    _auto = False
    _order = "date desc"
    _depends = {
        "account.move.line": [
            "move_id",
            "company_id",
            "company_currency_id",
            "product_id",
            "display_type",
            "quantity",
            "balance",
        ],
        "account.move": [
            "state",
            "move_type",
            "commercial_partner_id",
            "invoice_date",
            "date",
        ],
        "credit.package": ["product_id", "package_kind"],
    }

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    package_id = fields.Many2one("credit.package", readonly=True)
    package_kind = fields.Selection(
        [("subscription", "Subscription"), ("recharge", "Recharge")],
        string="Kind",
        readonly=True,
    )
    date = fields.Date(readonly=True)
    quantity = fields.Float(string="Packages sold", digits=(16, 0), readonly=True)
    revenue = fields.Monetary(readonly=True, currency_field="currency_id")

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %(table)s AS (
                SELECT aml.id,
                       m.id AS move_id,
                       m.commercial_partner_id AS partner_id,
                       aml.company_id,
                       aml.company_currency_id AS currency_id,
                       p.id AS package_id,
                       p.package_kind,
                       COALESCE(m.invoice_date, m.date) AS date,
                       CASE WHEN m.move_type = 'out_refund'
                            THEN -aml.quantity ELSE aml.quantity END AS quantity,
                       -aml.balance AS revenue
                  FROM account_move_line aml
                  JOIN account_move m ON m.id = aml.move_id
                  JOIN credit_package p ON p.product_id = aml.product_id
                 WHERE m.state = 'posted'
                   AND m.move_type IN ('out_invoice', 'out_refund')
                   AND aml.display_type = 'product'
            )
            """,
                table=SQL.identifier(self._table),
            )
        )
