# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

_logger = logging.getLogger(__name__)


class CreditRevenueRun(models.AbstractModel):
    """The daily run that recognises credit revenue (companies with
    *Recognise credit revenue on use*): per company and day ONE posted
    miscellaneous entry, Dr deferred revenue / Cr income per (income account,
    analytic distribution) for the units used that day (reversals the other
    way), Dr deferred revenue / Cr breakage for the units that expired.

    Set-based: the ledger rows not seen yet are marked and aggregated per
    (grant, day) by one statement each (allocations, reversals, expired
    grants); the values are computed per grant from its running totals. A day
    already booked is never booked again; movements of days not booked yet
    (skipped runs) get their own day's entry; movements dated on a day booked
    already (entered late) go to the entry of the run's day."""

    _name = "credit.revenue.run"
    _description = "Credit revenue recognition run"

    @api.model
    def _cron_recognise(self, until=None):
        """Book every company's credit revenue up to ``until`` (default:
        yesterday, the last complete day). Each company in its own savepoint
        (the batch guard): a failing company is logged and retried by the
        next run, the others are booked."""
        until = fields.Date.to_date(until) or (
            fields.Date.context_today(self) - relativedelta(days=1)
        )
        # Companies recognising on use, and those that stopped but still have
        # deferred grants (recognised until used or expired).
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT c.id FROM res_company c
                 WHERE c.credit_revenue_on_use
                    OR EXISTS (SELECT 1 FROM credit_grant g
                                WHERE g.company_id = c.id AND g.revenue_deferred)
              ORDER BY c.id
                """
            )
        )
        companies = (
            self.env["res.company"]
            .sudo()
            .browse([row[0] for row in self.env.cr.fetchall()])
        )
        guard = self.env["installment.batch.guard"]
        what = _("Credit revenue recognition")
        failures = []
        moves = self.env["account.move"]
        for company in companies:
            result = []
            failures += guard._run_isolated(
                company.partner_id,
                lambda _partner, company=company, result=result: result.append(
                    self.sudo().with_company(company)._recognise(company, until)
                ),
                what,
            )
            if result:
                moves |= result[0]
            if guard._auto_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit
        guard._raise_if_skipped(failures, what, done=len(companies) - len(failures))
        return moves

    # ------------------------------------------------------------------
    # One company
    # ------------------------------------------------------------------
    @api.model
    def _recognise(self, company, until):
        """Book ``company``'s movements dated up to ``until``; return the
        entries posted (one per day at most)."""
        Entry = self.env["credit.revenue.entry"]
        self.env.flush_all()
        # One run at a time per company (the day link is unique as well).
        self.env.cr.execute(
            SQL(
                "SELECT id FROM res_company WHERE id = %s FOR NO KEY UPDATE",
                company.id,
            )
        )
        if Entry.search_count(
            [("company_id", "=", company.id), ("date", "=", until)], limit=1
        ):
            return self.env["account.move"]
        movements = self._pending_movements(company, until)
        if not movements:
            return self.env["account.move"]
        days = {day for (_grant, day, _kind) in movements}
        booked = set(
            Entry.search(
                [("company_id", "=", company.id), ("date", "in", list(days))]
            ).mapped("date")
        )
        by_grant = defaultdict(lambda: defaultdict(float))
        for (grant_id, day, kind), quantity in movements.items():
            booking_day = until if day in booked else day
            by_grant[grant_id][booking_day, kind] += quantity
        rows, totals = self._value_movements(by_grant)
        return self._book(company, until, rows, totals)

    @api.model
    def _pending_movements(self, company, until):
        """Mark and return the ledger rows not seen yet, dated up to
        ``until``: ``{(grant_id, date, kind): quantity}`` with kind
        ``consumption`` (reversals negative) or ``breakage``."""
        cr = self.env.cr
        movements = defaultdict(float)
        # Units used: every allocation not seen yet; those of grants not
        # deferred are only marked as seen (FALSE).
        cr.execute(
            SQL(
                """
                WITH seen AS (
                    UPDATE credit_consumption_allocation a
                       SET revenue_booked = COALESCE(g.revenue_deferred, FALSE)
                      FROM credit_grant g
                     WHERE a.revenue_booked IS NULL
                       AND a.company_id = %(company)s
                       AND a.date <= %(until)s
                       AND g.id = a.grant_id
                 RETURNING a.grant_id, a.date, a.quantity, a.revenue_booked
                )
                SELECT grant_id, date, SUM(quantity)
                  FROM seen WHERE revenue_booked
              GROUP BY grant_id, date
                """,
                company=company.id,
                until=until,
            )
        )
        for grant_id, day, quantity in cr.fetchall():
            movements[grant_id, day, "consumption"] += float(quantity)
        # Reversals of allocations already seen, dated by their reversal.
        cr.execute(
            SQL(
                """
                WITH seen AS (
                    UPDATE credit_consumption_allocation a
                       SET revenue_reversal_booked = a.revenue_booked
                      FROM credit_consumption c
                     WHERE a.state = 'reversed'
                       AND a.revenue_reversal_booked IS NULL
                       AND a.revenue_booked IS NOT NULL
                       AND a.company_id = %(company)s
                       AND c.id = a.consumption_id
                       AND c.date_reversed <= %(until)s
                 RETURNING a.grant_id, c.date_reversed, a.quantity,
                           a.revenue_reversal_booked
                )
                SELECT grant_id, date_reversed, SUM(quantity)
                  FROM seen WHERE revenue_reversal_booked
              GROUP BY grant_id, date_reversed
                """,
                company=company.id,
                until=until,
            )
        )
        for grant_id, day, quantity in cr.fetchall():
            movements[grant_id, day, "consumption"] -= float(quantity)
        # Units expired and not booked as breakage yet (units given back to an
        # expired grant by a later reversal are its breakage too).
        cr.execute(
            SQL(
                """
                SELECT id, date_expired,
                       quantity_expired - COALESCE(revenue_breakage_qty, 0)
                  FROM credit_grant
                 WHERE revenue_deferred AND state = 'expired'
                   AND quantity_expired <> COALESCE(revenue_breakage_qty, 0)
                   AND company_id = %(company)s
                   AND date_expired <= %(until)s
                """,
                company=company.id,
                until=until,
            )
        )
        for grant_id, day, quantity in cr.fetchall():
            movements[grant_id, day, "breakage"] += float(quantity)
        self.env["credit.consumption.allocation"].invalidate_model(
            ["revenue_booked", "revenue_reversal_booked"]
        )
        return {key: qty for key, qty in movements.items() if qty}

    @api.model
    def _value_movements(self, by_grant):
        """Value each grant's movements, day by day, on its running totals.
        Return the revenue rows ``(grant, day, kind, quantity, amount)`` and
        the grants' new totals."""
        grants = self.env["credit.grant"].browse(list(by_grant))
        rows, totals = [], {}
        for grant in grants:
            cons_q, cons_v = grant.revenue_consumed_qty, grant.revenue_consumed_value
            brk_q, brk_v = grant.revenue_breakage_qty, grant.revenue_breakage_value
            credited_q = grant.revenue_credited_qty
            credited_v = grant.revenue_credited_value
            currency = grant.currency_id
            ctype = grant.credit_type_id
            days = sorted({day for day, _kind in by_grant[grant.id]})
            for day in days:
                moves = by_grant[grant.id]
                new_cons_q = ctype._round(cons_q + moves.get((day, "consumption"), 0.0))
                new_brk_q = ctype._round(brk_q + moves.get((day, "breakage"), 0.0))
                new_cons_v = grant._revenue_position_value(
                    new_cons_q, credited_q, credited_v
                )
                new_brk_v = currency.round(
                    grant._revenue_position_value(
                        new_cons_q + new_brk_q, credited_q, credited_v
                    )
                    - new_cons_v
                )
                for kind, qty, value in (
                    ("consumption", new_cons_q - cons_q, new_cons_v - cons_v),
                    ("breakage", new_brk_q - brk_q, new_brk_v - brk_v),
                ):
                    value = currency.round(value)
                    qty = ctype._round(qty)
                    if qty or value:
                        rows.append((grant, day, kind, qty, value))
                cons_q, cons_v, brk_q, brk_v = (
                    new_cons_q,
                    new_cons_v,
                    new_brk_q,
                    new_brk_v,
                )
            totals[grant.id] = (cons_q, cons_v, brk_q, brk_v)
        return rows, totals

    @api.model
    def _book(self, company, until, rows, totals):
        """Post one entry per day of ``rows``, link each day, write the revenue
        lines and the grants' totals (one statement each)."""
        breakage_account = company.credit_breakage_account_id
        currency = company.currency_id
        by_day = defaultdict(lambda: defaultdict(float))
        for grant, day, kind, _qty, value in rows:
            if kind == "consumption":
                key = (
                    "income",
                    grant.revenue_account_id.id,
                    tuple(sorted((grant.revenue_analytic_distribution or {}).items())),
                )
            else:
                key = ("breakage", breakage_account.id, ())
            by_day[day][key] += value
            by_day[day]["deferred", grant.revenue_deferred_account_id.id, ()] -= value
        missing = (
            self.env["credit.grant"]
            .union(*(g for g, _d, kind, _q, _v in rows if kind == "consumption"))
            .filtered(lambda g: not g.revenue_account_id)
        )
        if missing:
            raise UserError(
                _(
                    "Credit revenue of %(company)s cannot be recognised: the "
                    "products of packages %(packages)s have no income account. "
                    "Set one on the product or its category, then run the action "
                    "again.",
                    company=company.name,
                    packages=", ".join(missing.package_id.mapped("name")),
                )
            )
        days = sorted({day for _g, day, _k, _q, _v in rows})
        if not days:
            self._write_totals(totals)
            return self.env["account.move"]
        if any(row[2] == "breakage" for row in rows) and not breakage_account:
            raise UserError(
                _(
                    "Company %(company)s has no credit breakage account: set it in "
                    "Invoicing › Settings › Credit packages.",
                    company=company.name,
                )
            )
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(company),
                ("type", "=", "general"),
            ],
            limit=1,
        )
        if not journal:
            raise UserError(
                _(
                    "Company %(company)s has no miscellaneous journal to book "
                    "credit revenue in: create one.",
                    company=company.name,
                )
            )
        move_vals, entry_days = [], []
        for day in days:
            line_vals = []
            for (role, account_id, analytic), amount in sorted(
                by_day[day].items(),
                key=lambda item: (item[0][0] != "deferred", item[0]),
            ):
                amount = currency.round(amount)
                if currency.is_zero(amount):
                    continue
                # amount > 0 credits income / breakage; < 0 (deferred) debits.
                line_vals.append(
                    Command.create(
                        {
                            "account_id": account_id,
                            "name": {
                                "deferred": _("Deferred credit revenue released"),
                                "income": _("Credit revenue recognised on use"),
                                "breakage": _("Credit breakage"),
                            }[role],
                            "debit": -amount if amount < 0 else 0.0,
                            "credit": amount if amount > 0 else 0.0,
                            "analytic_distribution": dict(analytic) or False,
                        }
                    )
                )
            entry_days.append(day)
            move_vals.append(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": day,
                    "ref": _(
                        "Credit revenue of %(date)s", date=format_date(self.env, day)
                    ),
                    "line_ids": line_vals,
                }
                if line_vals
                else None
            )
        to_create = [vals for vals in move_vals if vals]
        created = self.env["account.move"].create(to_create)
        created.action_post()
        created_iter = iter(created)
        move_by_day = {
            day: (next(created_iter) if vals else self.env["account.move"])
            for day, vals in zip(entry_days, move_vals, strict=True)
        }
        self.env["credit.revenue.entry"].create(
            [
                {"company_id": company.id, "date": day, "move_id": move.id or False}
                for day, move in move_by_day.items()
            ]
        )
        self.env["credit.revenue.line"]._insert(
            [
                {
                    "grant_id": grant.id,
                    "date": day,
                    "kind": kind,
                    "quantity": qty,
                    "amount": value,
                    "move_id": move_by_day[day].id,
                }
                for grant, day, kind, qty, value in rows
            ]
        )
        self._write_totals(totals)
        _logger.info(
            "credit revenue of %s: %s entries, %s grants",
            company.name,
            len(created),
            len(totals),
        )
        return created

    @api.model
    def _write_totals(self, totals):
        if not totals:
            return
        ids = list(totals)
        self.env.cr.execute(
            SQL(
                """
                UPDATE credit_grant g
                   SET revenue_consumed_qty = u.cons_q,
                       revenue_consumed_value = u.cons_v,
                       revenue_breakage_qty = u.brk_q,
                       revenue_breakage_value = u.brk_v
                  FROM unnest(%(ids)s::int[], %(cons_q)s::numeric[],
                              %(cons_v)s::numeric[], %(brk_q)s::numeric[],
                              %(brk_v)s::numeric[])
                       AS u(id, cons_q, cons_v, brk_q, brk_v)
                 WHERE g.id = u.id
                """,
                ids=ids,
                cons_q=[totals[i][0] for i in ids],
                cons_v=[totals[i][1] for i in ids],
                brk_q=[totals[i][2] for i in ids],
                brk_v=[totals[i][3] for i in ids],
            )
        )
        self.env["credit.grant"].browse(ids).invalidate_recordset(
            [
                "revenue_consumed_qty",
                "revenue_consumed_value",
                "revenue_breakage_qty",
                "revenue_breakage_value",
            ]
        )
