from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

BUCKETS = [
    ("0_not_due", "Not Due"),
    ("1_1_30", "1-30 Days"),
    ("2_31_60", "31-60 Days"),
    ("3_61_90", "61-90 Days"),
    ("4_90_plus", "Over 90 Days"),
]


class InstallmentReportAging(models.Model):
    """Receivables aging that ages installment plans by their installments.

    A read-only SQL model: one row per amount open at the as-of date, in
    company currency:

    * invoices with an installment plan: one row per unpaid installment, at
      its due date, plus one row for any part of the invoice the plan does not
      cover (paid before the plan, then unreconciled), at the invoice's date
      of maturity;
    * other receivable journal items: their residual, at their maturity;
    * unapplied credits (payments, credit notes): negative, "not due".

    The as-of date comes from the context key ``installment_aging_date``
    (today by default) and is bound into the query (``_table_query``), so the
    ORM, the record rules, the pivot and the exports work unchanged. Residuals
    as of that date are rebuilt from the partial reconciliations dated on or
    before it, so the rows add up to the receivable balance of the general
    ledger at that date. Installment residuals are rebuilt with the plan's own
    allocation (credit notes from the last installment back, payments oldest
    first) applied to what was settled by that date; the invoice's current
    plan is used whatever the date (a plan keeps no history of earlier
    schedules).

    Two faster paths give the same numbers: for today, the stored residuals
    (``installment_report_aging_stored``), and for grouped reads (pivot,
    graph, grouped lists), a table already grouped under the rows
    (``installment_report_aging_grouped``).
    """

    _name = "installment.report.aging"
    _description = "Receivables Aging"
    _auto = False
    _order = "partner_id, due_date, id"
    _rec_name = "move_id"

    as_of_date = fields.Date(string="As of", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    invoice_user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    plan_id = fields.Many2one("installment.plan", readonly=True)
    plan_line_id = fields.Many2one(
        "installment.plan.line", string="Installment", readonly=True
    )
    move_line_id = fields.Many2one(
        "account.move.line", string="Journal Item", readonly=True
    )
    kind = fields.Selection(
        [
            ("installment", "Installment"),
            ("receivable", "Open Item"),
            ("credit", "Unapplied Credit"),
        ],
        readonly=True,
    )
    due_date = fields.Date(readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(BUCKETS, string="Age", readonly=True)
    amount_residual = fields.Monetary(string="Amount Due", readonly=True)
    amount_not_due = fields.Monetary(string="Not Due", readonly=True)
    amount_1_30 = fields.Monetary(string="1-30", readonly=True)
    amount_31_60 = fields.Monetary(string="31-60", readonly=True)
    amount_61_90 = fields.Monetary(string="61-90", readonly=True)
    amount_90_plus = fields.Monetary(string="Over 90", readonly=True)
    billing_mode = fields.Selection(
        [("postpaid", "Postpaid"), ("prepaid", "Prepaid")],
        compute="_compute_billing_mode",
        search="_search_billing_mode",
    )

    _depends = {
        "account.move.line": [
            "move_id",
            "account_id",
            "partner_id",
            "company_id",
            "balance",
            "amount_currency",
            "amount_residual",
            "date",
            "date_maturity",
            "parent_state",
            "display_type",
            "reconciled",
            "amount_residual_currency",
        ],
        "account.partial.reconcile": [
            "debit_move_id",
            "credit_move_id",
            "amount",
            "debit_amount_currency",
            "credit_amount_currency",
            "max_date",
        ],
        "account.move": ["move_type", "invoice_user_id", "amount_residual_signed"],
        "account.account": ["account_type"],
        "installment.plan": [
            "move_id",
            "partner_id",
            "state",
            "amount_total",
            "amount_residual",
            "amount_uncovered",
            "currency_id",
            "company_id",
        ],
        "installment.plan.line": [
            "plan_id",
            "sequence",
            "due_date",
            "amount",
            "amount_residual",
            "plan_state",
            "currency_id",
            "company_id",
            "partner_id",
            "move_id",
        ],
        "res.partner": ["commercial_partner_id"],
    }

    @api.model
    def _aging_date(self):
        date = self.env.context.get("installment_aging_date")
        return fields.Date.to_date(date) if date else fields.Date.context_today(self)

    @property
    def _table_query(self):
        # PostgreSQL's JIT compiles this query's expressions for every
        # parallel worker (its estimated cost is far above jit_above_cost):
        # about 1.5 s of compilation for a query that runs in 2 s at a million
        # installments. Off for the rest of this transaction, a read.
        self.env.cr.execute("SET LOCAL jit = off")
        # Its aggregates (a group per customer and age) are hashed in memory
        # rather than sorted on disk: at a million installments the default
        # 4 MB spilled every worker's partial aggregate to temporary files.
        self.env.cr.execute("SET LOCAL work_mem = '64MB'")
        return self._aging_query(self._aging_date())

    @api.model
    def _aging_query(self, as_of):
        """One row per open amount (the report's records)."""
        stored = self._aging_from_stored(as_of)
        same_currency = self._aging_same_currency_items() if stored else None
        return SQL(
            """
%(open_items)s
-- the as-of date is part of the id: rows of two dates read in one
-- transaction never share a record (and its cached values)
SELECT aged.id::bigint * 100000 + (%(as_of)s::date - DATE '1970-01-01') AS id,
       %(as_of)s::date AS as_of_date, aged.company_id,
       company.currency_id, aged.partner_id, move.invoice_user_id,
       aged.move_id, aged.plan_id, aged.plan_line_id, aged.move_line_id,
       aged.kind, aged.due_date, aged.days_overdue, aged.bucket,
       %(amounts)s
  FROM (%(aged)s) aged
  LEFT JOIN res_company company ON company.id = aged.company_id
  LEFT JOIN account_move move ON move.id = aged.move_id
            """,
            open_items=self._aging_open_items(as_of, stored, same_currency),
            aged=self._aging_aged(
                as_of,
                SQL("SELECT * FROM open_item UNION ALL %s", same_currency)
                if same_currency
                else SQL("SELECT * FROM open_item"),
            ),
            amounts=self._aging_amounts(SQL("aged.residual"), SQL("aged.bucket")),
            as_of=as_of,
        )

    @api.model
    def _aging_aged(self, as_of, items):
        """``items`` (open items: id, company_id, partner_id, move_id, plan_id,
        plan_line_id, move_line_id, kind, due_date, residual) with their days
        overdue and age bucket as of ``as_of``. The buckets compare due dates
        with their first days (no date arithmetic per row: a million rows are
        bucketed in the grouped reads)."""
        return SQL(
            """
    SELECT item.*,
           -- a credit is owed to the customer: never overdue
           CASE WHEN item.residual < 0 THEN NULL
                ELSE GREATEST(%(as_of)s::date - item.due_date, 0)
           END AS days_overdue,
           CASE WHEN item.residual < 0 OR item.due_date >= %(as_of)s::date
                     THEN '0_not_due'
                WHEN item.due_date >= %(days_30)s::date THEN '1_1_30'
                WHEN item.due_date >= %(days_60)s::date THEN '2_31_60'
                WHEN item.due_date >= %(days_90)s::date THEN '3_61_90'
                ELSE '4_90_plus'
           END AS bucket
      FROM (%(items)s) item""",
            as_of=as_of,
            days_30=as_of - relativedelta(days=30),
            days_60=as_of - relativedelta(days=60),
            days_90=as_of - relativedelta(days=90),
            items=items,
        )

    @api.model
    def _aging_amounts(self, residual, bucket):
        """The amount columns: the residual, and again under its bucket."""
        return SQL(
            """%(residual)s AS amount_residual,
       CASE WHEN %(bucket)s = '0_not_due' THEN %(residual)s ELSE 0 END
           AS amount_not_due,
       CASE WHEN %(bucket)s = '1_1_30' THEN %(residual)s ELSE 0 END AS amount_1_30,
       CASE WHEN %(bucket)s = '2_31_60' THEN %(residual)s ELSE 0 END AS amount_31_60,
       CASE WHEN %(bucket)s = '3_61_90' THEN %(residual)s ELSE 0 END AS amount_61_90,
       CASE WHEN %(bucket)s = '4_90_plus' THEN %(residual)s ELSE 0 END
           AS amount_90_plus""",
            residual=residual,
            bucket=bucket,
        )

    @api.model
    def _aging_open_items(self, as_of, stored, same_currency):
        """The ``WITH`` clause up to ``open_item``: every open amount as of
        ``as_of`` except, on the stored path, the installments of plans in
        their company's currency (``same_currency``, read from their table by
        the caller)."""
        order = SQL("line.sequence, line.due_date, line.id")
        sources = (self._aging_sources_stored if stored else self._aging_sources)(
            as_of, order
        )
        # A plan none of whose installments is open covers nothing: all its
        # residual is one row (stored: only open installments are read).
        # (On the table, by its plan_id index: the CTEs' sizes are unknown
        # to the planner, which turns a subquery on them into a nested loop.)
        no_line = SQL(
            "SELECT 1 FROM installment_plan_line line WHERE line.plan_id = plan.id%s",
            SQL(" AND line.amount_residual != 0") if stored else SQL(""),
        )
        if stored:
            # the open items of invoices without a plan, straight from the
            # journal items (the planner sees their size: a hash anti-join);
            # ``plan`` holds only the foreign-currency plans (see
            # _aging_sources_stored), the others are read from their tables
            without_plan = self._aging_stored_receivables(
                SQL(
                    "AND NOT EXISTS (SELECT 1 FROM installment_plan plan"
                    " WHERE plan.move_id = aml.move_id AND plan.state != 'cancelled')"
                )
            )
            extra = self._aging_uncovered_items()
        else:
            without_plan = SQL(
                "SELECT * FROM recv WHERE recv.residual != 0 AND NOT EXISTS"
                " (SELECT 1 FROM plan WHERE plan.move_id = recv.move_id)"
            )
            extra = SQL("")
        return SQL(
            """
WITH %(sources)s,
converted AS (
    -- company-currency share of the invoice's residual, rounded on the
    -- running total so that the installments add up exactly
    SELECT line.*, plan.move_id, plan.partner_id, plan.company_id,
           plan.residual AS plan_residual, plan.first_line_id, plan.first_due_date,
           CASE WHEN plan.residual_currency = 0 THEN 0
                ELSE ROUND(plan.residual * SUM(line.residual_currency) OVER (
                         PARTITION BY line.plan_id ORDER BY %(order)s
                         ROWS UNBOUNDED PRECEDING)
                     / plan.residual_currency / plan.company_rounding)
                     * plan.company_rounding
           END AS running_company
      FROM paid line
      JOIN plan ON plan.id = line.plan_id
),
installment AS (
    SELECT line.*,
           line.running_company - COALESCE(LAG(line.running_company) OVER (
               PARTITION BY line.plan_id ORDER BY %(order)s), 0) AS residual,
           LAST_VALUE(line.running_company) OVER (
               PARTITION BY line.plan_id ORDER BY %(order)s
               ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
           ) AS plan_company_total,
           ROW_NUMBER() OVER (PARTITION BY line.plan_id ORDER BY %(order)s) AS rank
      FROM converted line
),
open_item AS (
    SELECT recv.id * 2 AS id, recv.company_id, recv.partner_id, recv.move_id,
           NULL::integer AS plan_id, NULL::integer AS plan_line_id,
           recv.id AS move_line_id,
           CASE WHEN recv.residual < 0 THEN 'credit' ELSE 'receivable' END AS kind,
           recv.due_date, recv.residual
      FROM (%(without_plan)s) recv
    UNION ALL
    SELECT line.id * 2 + 1, line.company_id, line.partner_id, line.move_id,
           line.plan_id, line.id, NULL, 'installment', line.due_date, line.residual
      FROM installment line
     WHERE line.residual != 0
    UNION ALL
    -- what the plan does not cover: the invoice's residual minus the
    -- installments' share (e.g. a payment dated after as_of that was
    -- reconciled before the plan was made); read on each plan's first
    -- installment row, no join: a join of these CTEs, whose sizes the
    -- planner cannot estimate, became a nested loop over every plan
    SELECT line.first_line_id * 2, line.company_id, line.partner_id, line.move_id,
           line.plan_id, NULL, line.first_line_id,
           CASE WHEN line.plan_residual < 0 THEN 'credit' ELSE 'receivable' END,
           line.first_due_date,
           line.plan_residual - line.plan_company_total
      FROM installment line
     WHERE line.rank = 1 AND line.plan_residual - line.plan_company_total != 0
    UNION ALL
    -- a plan without installments covers nothing
    SELECT plan.first_line_id * 2, plan.company_id, plan.partner_id, plan.move_id,
           plan.id, NULL, plan.first_line_id,
           CASE WHEN plan.residual < 0 THEN 'credit' ELSE 'receivable' END,
           plan.first_due_date, plan.residual
      FROM plan
     WHERE plan.residual != 0
       AND NOT EXISTS (%(no_line)s)
    %(extra)s
)""",
            sources=sources,
            without_plan=without_plan,
            no_line=no_line,
            extra=extra,
            order=order,
        )

    @api.model
    def _aging_plan_cte(self, foreign_only=False):
        """The plans of the open receivable items (``recv``), with their
        residual in company and invoice currency (``foreign_only``: the plans
        in another currency than their company's)."""
        return SQL(
            """
plan AS (
    SELECT plan.id, plan.move_id, plan.partner_id, plan.company_id, plan.amount_total,
           COALESCE(plan.credit_note_base, 0) AS credit_note_base,
           currency.rounding AS company_rounding,
           SUM(recv.residual) AS residual,
           SUM(recv.residual_currency) AS residual_currency,
           MIN(recv.id) FILTER (WHERE recv.residual != 0) AS first_line_id,
           MIN(recv.due_date) FILTER (WHERE recv.residual != 0) AS first_due_date
      FROM %(plans)s plan
      JOIN recv ON recv.move_id = plan.move_id
      JOIN res_company company ON company.id = recv.company_id
      JOIN res_currency currency ON currency.id = company.currency_id
     WHERE plan.state != 'cancelled' %(foreign)s
     GROUP BY plan.id, plan.move_id, plan.partner_id, plan.company_id,
              plan.amount_total, plan.credit_note_base, currency.rounding
)""",
            foreign=SQL("AND plan.currency_id != currency.id")
            if foreign_only
            else SQL(""),
            # foreign_only: the (few) foreign-currency plans first, then
            # their receivable items (not every open item probing a plan)
            plans=SQL("foreign_plan") if foreign_only else SQL("installment_plan"),
        )

    @api.model
    def _aging_sources(self, as_of, order):
        """``recv`` and ``paid`` rebuilt as of ``as_of``: the receivable items'
        residuals from the reconciliations dated on or before it, and the
        installments' residuals from the plan's own allocation (credit notes
        from the last installment back, payments oldest first) of what was
        settled by then."""
        return SQL(
            """
recv AS (
    SELECT aml.id, aml.move_id, aml.company_id,
           COALESCE(partner.commercial_partner_id, aml.partner_id) AS partner_id,
           COALESCE(aml.date_maturity, aml.date) AS due_date,
           aml.balance - COALESCE(debit_side.amount, 0)
               + COALESCE(credit_side.amount, 0) AS residual,
           aml.amount_currency - COALESCE(debit_side.amount_currency, 0)
               + COALESCE(credit_side.amount_currency, 0) AS residual_currency
      FROM account_move_line aml
      JOIN account_account account ON account.id = aml.account_id
      LEFT JOIN res_partner partner ON partner.id = aml.partner_id
      LEFT JOIN LATERAL (
            SELECT SUM(part.amount) AS amount,
                   SUM(part.debit_amount_currency) AS amount_currency
              FROM account_partial_reconcile part
             WHERE part.debit_move_id = aml.id AND part.max_date <= %(as_of)s
      ) debit_side ON TRUE
      LEFT JOIN LATERAL (
            SELECT SUM(part.amount) AS amount,
                   SUM(part.credit_amount_currency) AS amount_currency
              FROM account_partial_reconcile part
             WHERE part.credit_move_id = aml.id AND part.max_date <= %(as_of)s
      ) credit_side ON TRUE
     WHERE account.account_type = 'asset_receivable'
       AND aml.parent_state = 'posted'
       AND aml.date <= %(as_of)s
       AND aml.company_id IN %(companies)s
       -- settled now and by nothing dated after as_of: settled at as_of too
       AND (aml.amount_residual != 0
            OR EXISTS (SELECT 1 FROM account_partial_reconcile part
                        WHERE part.debit_move_id = aml.id AND part.max_date > %(as_of)s)
            OR EXISTS (SELECT 1 FROM account_partial_reconcile part
                        WHERE part.credit_move_id = aml.id
                          AND part.max_date > %(as_of)s))
),
%(plan)s,
plan_credit AS (
    SELECT plan.id AS plan_id, SUM(part.debit_amount_currency) AS amount
      FROM plan
      JOIN account_move_line term
        ON term.move_id = plan.move_id AND term.display_type = 'payment_term'
      JOIN account_partial_reconcile part
        ON part.debit_move_id = term.id AND part.max_date <= %(as_of)s
      JOIN account_move_line counterpart ON counterpart.id = part.credit_move_id
      JOIN account_move refund
        ON refund.id = counterpart.move_id AND refund.move_type = 'out_refund'
     GROUP BY plan.id
),
settled AS (
    SELECT plan.id AS plan_id,
           LEAST(GREATEST(plan.amount_total - plan.residual_currency, 0),
                 plan.amount_total) AS settled,
           COALESCE(plan_credit.amount, 0) - plan.credit_note_base AS credited
      FROM plan
      LEFT JOIN plan_credit ON plan_credit.plan_id = plan.id
),
allocation AS (
    SELECT plan_id, LEAST(GREATEST(credited, 0), settled) AS reduction,
           settled - LEAST(GREATEST(credited, 0), settled) AS paid
      FROM settled
),
reduced AS (
    SELECT line.id, line.plan_id, line.due_date, line.sequence, allocation.paid,
           line.amount - LEAST(
               GREATEST(allocation.reduction - COALESCE(SUM(line.amount) OVER (
                   PARTITION BY line.plan_id ORDER BY %(order)s
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0), 0),
               GREATEST(line.amount, 0)) AS payable
      FROM installment_plan_line line
      JOIN allocation ON allocation.plan_id = line.plan_id
),
paid AS (
    SELECT line.*,
           line.payable - LEAST(
               GREATEST(line.paid - COALESCE(SUM(line.payable) OVER (
                   PARTITION BY line.plan_id ORDER BY %(order)s
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0),
               GREATEST(line.payable, 0)) AS residual_currency
      FROM reduced line
)""",
            as_of=as_of,
            companies=tuple(self.env.companies.ids),
            order=order,
            plan=self._aging_plan_cte(),
        )

    @api.depends("partner_id")
    def _compute_billing_mode(self):
        for row in self:
            row.billing_mode = row.partner_id.billing_mode or "postpaid"

    def _search_billing_mode(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            return [("id", "=", False)]
        values = {value} if isinstance(value, str) else set(value or ())
        wanted = values if operator in ("=", "in") else {"postpaid", "prepaid"} - values
        domain = [("partner_id.billing_mode", "in", list(wanted))]
        if "postpaid" in wanted:
            domain = ["|", ("partner_id.billing_mode", "=", False), *domain]
        return domain
