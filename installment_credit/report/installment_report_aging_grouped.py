"""The aging report's grouped reads (pivot, graph, grouped lists), aggregated
under the report's rows.

A grouped read of the report (``_read_group``) over a million installments
would first build a million report rows and then group them. When the read
needs nothing of a row but what it shares with its group (the dimensions
below) and adds amounts or a count, the report's table is built already
grouped: every branch of its ``UNION ALL`` is grouped by customer, company,
kind and age bucket before the branches are put together, and the ORM's own
``GROUP BY`` (its domain, record rules, ordering and formatting unchanged)
adds those partial sums up. Sums of partial sums, counts of partial counts
(``row_count``) and maxima of partial maxima are the same numbers; anything
else (a due date, a document, an average, an id) reads the rows. The grouped
table has no ``id``: it is only ever read by ``_read_group``.
"""

import contextvars

from odoo import api, models
from odoo.osv import expression
from odoo.tools import SQL

# Set around one grouped read: None (rows) or whether the salesperson is
# a dimension. A context variable, not a context key: the key would be
# carried by the records the read returns and make their later reads of this
# report grouped too.
_GROUPED = contextvars.ContextVar("installment_aging_grouped", default=None)

# what a group of rows has in common (billing_mode searches on partner_id)
DIMENSIONS = frozenset(
    {
        "as_of_date",
        "company_id",
        "currency_id",
        "partner_id",
        "invoice_user_id",
        "kind",
        "bucket",
        "billing_mode",
    }
)
AGGREGATES = frozenset(
    {
        "__count",
        "amount_residual:sum",
        "amount_not_due:sum",
        "amount_1_30:sum",
        "amount_31_60:sum",
        "amount_61_90:sum",
        "amount_90_plus:sum",
        "days_overdue:max",
    }
)


class InstallmentReportAging(models.Model):
    _inherit = "installment.report.aging"

    @api.model
    def _aging_grouping(self, domain, groupby, aggregates, having, order):
        """None when the grouped read needs the rows, else whether it needs
        the salesperson (a join of every row with its invoice)."""
        fnames = {spec.split(":")[0].split(".")[0] for spec in groupby}
        wanted = set(aggregates)
        wanted.update(leaf[0] for leaf in having or () if expression.is_leaf(leaf))
        for part in (order or "").split(","):
            term = part.strip().split(" ")[0]
            if term and term not in groupby:
                wanted.add(term)
        if not wanted <= AGGREGATES:
            return None
        rules = [] if self.env.su else self.env["ir.rule"]._compute_domain(self._name)
        for leaf in expression.normalize_domain(list(domain or ()) + list(rules or ())):
            if expression.is_leaf(leaf) and isinstance(leaf[0], str):
                fnames.add(leaf[0].split(".")[0])
        if not fnames <= DIMENSIONS:
            return None
        return "invoice_user_id" in fnames

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        grouped = self._aging_grouping(domain, groupby, aggregates, having, order)
        token = _GROUPED.set(grouped)
        try:
            return super()._read_group(
                domain, groupby, aggregates, having, offset, limit, order
            )
        finally:
            _GROUPED.reset(token)

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec == "__count" and _GROUPED.get() is not None:
            return SQL("SUM(%s)::bigint", SQL.identifier(self._table, "row_count"))
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _aging_query(self, as_of):
        by_user = _GROUPED.get()
        if by_user is None:
            return super()._aging_query(as_of)
        stored = self._aging_from_stored(as_of)
        same_currency = self._aging_same_currency_items() if stored else None
        branches = [SQL("SELECT * FROM open_item")]
        if same_currency:
            # the million installments: grouped on their own, straight from
            # their table, before the union
            branches.append(same_currency)
        return SQL(
            """
%(open_items)s
SELECT %(as_of)s::date AS as_of_date, grp.company_id, company.currency_id,
       grp.partner_id, grp.invoice_user_id, grp.kind, grp.bucket,
       grp.days_overdue, grp.row_count,
       %(amounts)s
  FROM (%(groups)s) grp
  LEFT JOIN res_company company ON company.id = grp.company_id
            """,
            open_items=self._aging_open_items(as_of, stored, same_currency),
            groups=SQL(" UNION ALL ").join(
                self._aging_group(as_of, items, by_user) for items in branches
            ),
            amounts=self._aging_amounts(SQL("grp.residual"), SQL("grp.bucket")),
            as_of=as_of,
        )

    @api.model
    def _aging_group(self, as_of, items, by_user):
        """``items`` (columns of ``open_item``) grouped by the dimensions."""
        user = SQL("move.invoice_user_id") if by_user else SQL("NULL::integer")
        return SQL(
            """
    SELECT aged.company_id, aged.partner_id, %(user)s AS invoice_user_id,
           aged.kind, aged.bucket, SUM(aged.residual) AS residual,
           COUNT(*) AS row_count,
           -- the most days overdue: of the oldest due date, credits aside
           -- (none but credits: none, as on the rows)
           CASE WHEN %(oldest)s < %(as_of)s::date THEN %(as_of)s::date - %(oldest)s
                WHEN %(oldest)s IS NOT NULL THEN 0
           END AS days_overdue
      FROM (%(aged)s) aged
      %(join)s
     GROUP BY aged.company_id, aged.partner_id, %(user)s, aged.kind, aged.bucket""",
            user=user,
            as_of=as_of,
            oldest=SQL("MIN(aged.due_date) FILTER (WHERE aged.residual >= 0)"),
            aged=self._aging_aged(as_of, items),
            join=SQL("LEFT JOIN account_move move ON move.id = aged.move_id")
            if by_user
            else SQL(""),
        )
