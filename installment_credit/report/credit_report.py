# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools import SQL, drop_view_if_exists

from ..models.credit_type import CREDIT_DIGITS


class CreditReportBalance(models.Model):
    """Credit balance per customer and credit type, from the grant ledger."""

    _name = "credit.report.balance"
    _description = "Credit balance per customer and type"
    _auto = False
    _order = "partner_id, credit_type_id"
    # Reading the view flushes what it is computed from (grants and
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
    quantity_sold = fields.Float(string="Granted", digits=CREDIT_DIGITS, readonly=True)
    quantity_consumed = fields.Float(
        string="Consumed", digits=CREDIT_DIGITS, readonly=True
    )
    quantity_expired = fields.Float(
        string="Expired", digits=CREDIT_DIGITS, readonly=True
    )
    quantity_remaining = fields.Float(
        string="Remaining", digits=CREDIT_DIGITS, readonly=True
    )
    next_expiry = fields.Date(readonly=True)
    next_expiry_quantity = fields.Float(
        string="Expiring next", digits=CREDIT_DIGITS, readonly=True
    )
    consumed_this_month = fields.Float(digits=CREDIT_DIGITS, readonly=True)

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %(table)s AS (
                SELECT MIN(g.id) AS id,
                       g.partner_id,
                       g.company_id,
                       g.credit_type_id,
                       SUM(g.quantity - COALESCE(g.quantity_cancelled, 0))
                           AS quantity_sold,
                       SUM(COALESCE(g.quantity_consumed, 0)) AS quantity_consumed,
                       SUM(COALESCE(g.quantity_expired, 0)) AS quantity_expired,
                       SUM(CASE WHEN g.state = 'active'
                                THEN g.quantity_remaining ELSE 0 END)
                           AS quantity_remaining,
                       MIN(CASE WHEN g.state = 'active'
                                 AND g.date_start <= CURRENT_DATE
                                THEN g.date_expiry END) AS next_expiry,
                       SUM(CASE WHEN g.state = 'active'
                                 AND g.date_start <= CURRENT_DATE
                                 AND g.date_expiry = nxt.date_expiry
                                THEN g.quantity_remaining ELSE 0 END)
                           AS next_expiry_quantity,
                       COALESCE(MAX(month.quantity), 0) AS consumed_this_month
                  FROM credit_grant g
             LEFT JOIN LATERAL (
                        SELECT MIN(n.date_expiry) AS date_expiry
                          FROM credit_grant n
                         WHERE n.partner_id = g.partner_id
                           AND n.credit_type_id = g.credit_type_id
                           AND n.state = 'active'
                           AND n.date_start <= CURRENT_DATE
                       ) nxt ON TRUE
             LEFT JOIN LATERAL (
                        SELECT SUM(c.quantity) AS quantity
                          FROM credit_consumption c
                         WHERE c.partner_id = g.partner_id
                           AND c.credit_type_id = g.credit_type_id
                           AND c.state = 'done'
                           AND c.date >= date_trunc('month', CURRENT_DATE)
                       ) month ON TRUE
              GROUP BY g.partner_id, g.company_id, g.credit_type_id
            )
            """,
                table=SQL.identifier(self._table),
            )
        )


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
    quantity = fields.Float(string="Packages sold", readonly=True)
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
