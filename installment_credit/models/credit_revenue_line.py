# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools import SQL, create_index

from .credit_type import CREDIT_DIGITS

REVENUE_KINDS = [
    ("credit", "Credit note"),
    ("consumption", "Recognised on use"),
    ("breakage", "Breakage"),
]


class CreditRevenueLine(models.Model):
    """What left the deferred value of a grant, and when: recognised as units
    were used (net of reversals), booked as breakage, or taken back by a
    credit note. Written only by the daily run and the credit note path, in
    bulk; the deferred revenue report reads it."""

    _name = "credit.revenue.line"
    _description = "Credit revenue movement"
    _order = "date desc, id desc"

    grant_id = fields.Many2one(
        "credit.grant", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one(related="grant_id.company_id", store=True)
    partner_id = fields.Many2one(related="grant_id.partner_id", store=True)
    credit_type_id = fields.Many2one(related="grant_id.credit_type_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True, index=True)
    kind = fields.Selection(REVENUE_KINDS, required=True, readonly=True)
    quantity = fields.Float(digits=CREDIT_DIGITS, readonly=True)
    amount = fields.Monetary(readonly=True)
    move_id = fields.Many2one(
        "account.move", string="Journal entry", readonly=True, index="btree_not_null"
    )

    def _insert(self, rows):
        """Insert ``rows`` (dicts: grant_id, date, kind, quantity, amount,
        move_id?) in one statement."""
        if not rows:
            return
        self.env["credit.grant"].flush_model()
        cr = self.env.cr
        now, uid = cr.now(), self.env.uid
        cr.execute(
            SQL(
                """
                INSERT INTO credit_revenue_line
                       (grant_id, company_id, partner_id, credit_type_id, date,
                        kind, quantity, amount, move_id,
                        create_uid, create_date, write_uid, write_date)
                SELECT g.id, g.company_id, g.partner_id, g.credit_type_id, u.date,
                       u.kind, u.quantity, u.amount, u.move_id,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(grants)s::int[], %(dates)s::date[],
                              %(kinds)s::varchar[], %(quantities)s::numeric[],
                              %(amounts)s::numeric[], %(moves)s::int[])
                       AS u(grant_id, date, kind, quantity, amount, move_id)
                  JOIN credit_grant g ON g.id = u.grant_id
                """,
                uid=uid,
                now=now,
                grants=[r["grant_id"] for r in rows],
                dates=[r["date"] for r in rows],
                kinds=[r["kind"] for r in rows],
                quantities=[r["quantity"] for r in rows],
                amounts=[r["amount"] for r in rows],
                moves=[r.get("move_id") or None for r in rows],
            )
        )
        self.invalidate_model()


class CreditRevenueEntry(models.Model):
    """The day of a company already booked by the daily run, and its entry:
    a day is never booked twice."""

    _name = "credit.revenue.entry"
    _description = "Credit revenue day booked"
    _order = "date desc, id desc"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    date = fields.Date(required=True, readonly=True)
    move_id = fields.Many2one(
        "account.move",
        string="Journal entry",
        readonly=True,
        help="Empty when the day's movements netted to zero.",
    )

    _sql_constraints = [
        (
            "company_date_uniq",
            "unique(company_id, date)",
            "Credit revenue is booked once per company and day.",
        )
    ]


class CreditConsumptionAllocation(models.Model):
    """Whether the daily run has seen an allocation: NULL not yet, TRUE its
    value was recognised, FALSE its grant is not deferred (nothing to book).
    Same for its reversal."""

    _inherit = "credit.consumption.allocation"

    revenue_booked = fields.Boolean(readonly=True, copy=False)
    revenue_reversal_booked = fields.Boolean(readonly=True, copy=False)

    def init(self):
        res = super().init()
        create_index(
            self._cr,
            "credit_consumption_allocation_revenue_todo_index",
            self._table,
            ["company_id", "date"],
            where="revenue_booked IS NULL",
        )
        create_index(
            self._cr,
            "credit_consumption_allocation_revenue_reversal_index",
            self._table,
            ["company_id"],
            where="state = 'reversed' AND revenue_reversal_booked IS NULL",
        )
        return res
