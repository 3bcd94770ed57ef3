"""The aging report read from what is stored, for today.

Today, when no receivable item is dated after it, the residuals as of today
are the stored ones: the open journal items' residuals (Odoo's) and the open
installments' residuals, both kept by every reconciliation. The report then
reads them instead of rebuilding them from the reconciliations (see
``_aging_sources``); a test proves both give the same rows.
"""

from odoo import api, fields, models
from odoo.tools import SQL


class InstallmentReportAging(models.Model):
    _inherit = "installment.report.aging"

    @api.model
    def _aging_from_stored(self, as_of):
        """Whether the stored residuals are the residuals as of ``as_of``: it is
        today or later and no receivable item of the companies is dated after
        it (then no reconciliation is either: both of its items are
        receivable). One indexed query; the context key
        ``installment_aging_rebuild`` forces the rebuild."""
        if self.env.context.get("installment_aging_rebuild") or as_of < (
            fields.Date.context_today(self)
        ):
            return False
        self.env["account.move.line"].flush_model(
            ["date", "parent_state", "account_id", "company_id"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT 1
                  FROM account_move_line aml
                 WHERE aml.account_id IN %(receivable)s
                   AND aml.date > %(as_of)s
                   AND aml.parent_state = 'posted'
                   AND aml.company_id IN %(companies)s
                 LIMIT 1
                """,
                as_of=as_of,
                companies=tuple(self.env.companies.ids),
                receivable=self._aging_receivable_accounts(),
            )
        )
        return not self.env.cr.fetchone()

    @api.model
    def _aging_receivable_accounts(self):
        """The receivable accounts' ids, as a list of values for the stored
        path's queries: the planner then estimates how many journal items
        they hold (from a subquery it guessed a few, and probed the plans by
        index for each of a hundred thousand open items)."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM account_account WHERE account_type = 'asset_receivable'"
            )
        )
        return tuple(row[0] for row in self.env.cr.fetchall()) or (None,)

    @api.model
    def _aging_sources_stored(self, as_of, order):
        """``recv`` and ``paid`` from what is stored, when it is current (see
        ``_aging_from_stored``): the open receivable items' residuals (Odoo's
        unreconciled index) and the open installments' residuals, kept by
        every reconciliation. The rest of the query is the same."""
        return SQL(
            """
recv AS (%(recv)s),
foreign_plan AS MATERIALIZED (
    SELECT plan.*
      FROM installment_plan plan
     WHERE %(foreign)s
       AND plan.state != 'cancelled'
),
%(plan)s,
paid AS (
    SELECT line.id, line.plan_id, line.due_date, line.sequence,
           line.amount_residual AS residual_currency
      FROM installment_plan_line line
      JOIN plan ON plan.id = line.plan_id
     WHERE line.amount_residual != 0
),
-- the plans in their company's currency that do not cover all their
-- invoice's residual (few, by the partial index on what the plan stores as
-- not covered): selected first, their first open item after
uncovered AS MATERIALIZED (
    SELECT plan.id, plan.move_id, plan.partner_id, plan.company_id,
           COALESCE(plan.amount_residual, 0) + plan.amount_uncovered
               AS move_residual,
           plan.amount_uncovered AS amount
      FROM installment_plan plan
     WHERE plan.amount_uncovered != 0
       AND plan.company_id IN %(companies)s
       AND (plan.company_id, plan.currency_id) IN %(own_currency)s
       AND plan.state != 'cancelled'
)""",
            companies=tuple(self.env.companies.ids),
            own_currency=self._aging_company_currencies(),
            foreign=SQL(" OR ").join(
                SQL(
                    "(plan.company_id = %s AND (plan.currency_id < %s"
                    " OR plan.currency_id > %s))",
                    company,
                    currency,
                    currency,
                )
                for company, currency in self._aging_company_currencies()
            ),
            plan=self._aging_plan_cte(foreign_only=True),
            recv=self._aging_stored_receivables(SQL("")),
        )

    @api.model
    def _aging_company_currencies(self):
        """((company id, its currency id), ...) of the report's companies:
        a condition on the plans' and installments' own columns (an index's
        range for "another currency") instead of a join with the companies."""
        return tuple(
            (company.id, company.currency_id.id) for company in self.env.companies
        )

    @api.model
    def _aging_stored_receivables(self, condition):
        """The open receivable items (Odoo's unreconciled index) with their
        stored residuals, filtered further by ``condition`` (on ``aml``)."""
        return SQL(
            """
    SELECT aml.id, aml.move_id, aml.company_id,
           COALESCE(partner.commercial_partner_id, aml.partner_id) AS partner_id,
           COALESCE(aml.date_maturity, aml.date) AS due_date,
           aml.amount_residual AS residual,
           aml.amount_residual_currency AS residual_currency
      FROM account_move_line aml
      LEFT JOIN res_partner partner ON partner.id = aml.partner_id
     WHERE aml.account_id IN %(receivable)s
       AND aml.reconciled IS NOT TRUE
       AND aml.parent_state = 'posted'
       AND aml.amount_residual != 0
       AND aml.company_id IN %(companies)s
       %(condition)s""",
            companies=tuple(self.env.companies.ids),
            receivable=self._aging_receivable_accounts(),
            condition=condition,
        )

    @api.model
    def _aging_same_currency_items(self):
        """Stored path, plans in their company's currency: an installment's
        residual is its stored residual (no conversion, no running total), read
        straight from the installments' table like a plain aggregate would.
        Columns of ``open_item``."""
        return SQL(
            """
    SELECT line.id * 2 + 1 AS id, line.company_id, line.partner_id, line.move_id,
           line.plan_id, line.id AS plan_line_id, NULL::integer AS move_line_id,
           'installment' AS kind, line.due_date, line.amount_residual AS residual
      FROM installment_plan_line line
     WHERE (line.company_id, line.currency_id) IN %(own_currency)s
       AND line.plan_state != 'cancelled'
       AND line.amount_residual != 0""",
            own_currency=self._aging_company_currencies(),
        )

    @api.model
    def _aging_uncovered_items(self):
        """Stored path, plans in their company's currency: what such a plan
        does not cover is the invoice's stored residual minus the plan's, on
        the invoice's first open receivable item (few plans: one lookup each
        by the move_id index). A ``UNION ALL`` branch of ``open_item``."""
        return SQL(
            """
    UNION ALL
    SELECT first.id * 2, plan.company_id, plan.partner_id, plan.move_id, plan.id,
           NULL, first.id,
           CASE WHEN plan.move_residual < 0 THEN 'credit' ELSE 'receivable' END,
           first.due_date, plan.amount
      FROM uncovered plan
      CROSS JOIN LATERAL (
            SELECT aml.id, COALESCE(aml.date_maturity, aml.date) AS due_date
              FROM account_move_line aml
             WHERE aml.move_id = plan.move_id
               AND aml.account_id IN %(receivable)s
          ORDER BY aml.amount_residual = 0, aml.id
             LIMIT 1
      ) first""",
            receivable=self._aging_receivable_accounts(),
        )
