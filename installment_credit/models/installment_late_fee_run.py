import logging
import uuid
from collections import defaultdict
from functools import partial

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.tools import SQL, float_is_zero

from .account_move import OVERRIDE_LIMIT_KEY
from .account_move_billing import _LimitOverride
from .installment_reminder_log import ReminderFormatter

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


class InstallmentLateFeeRun(models.AbstractModel):
    """The late fee run: find the (installment, period) pairs that owe a fee,
    claim them in the fee log (exactly once per installment and period),
    then invoice each plan's fees of the run on one posted customer invoice.
    Called by the daily scheduled action after the late flip, before the
    reminders (which then mention the fees charged)."""

    _name = "installment.late.fee.run"
    _description = "Late fee run"

    @api.model
    def _cron_charge_late_fees(self, today=None, batch_size=None):
        """Charge every late fee that fell due, at most once per installment
        and period.

        The candidates of every company are computed in one query. They are
        handled per company in batches of about ``batch_size`` candidates (a
        customer is never split), each batch in a savepoint: a customer whose
        fee invoice fails (misconfigured accounts...) is skipped, noted in its
        chatter, and charged by the next run. When run by the scheduler, each
        batch is committed.

        :return: the failures, ``[(partner, error), ...]`` (the caller reports
            them with ``installment.batch.guard._raise_if_skipped``)
        """
        today = fields.Date.to_date(today) if today else fields.Date.context_today(self)
        batch_size = batch_size or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("installment_credit.late_fee_batch_size", DEFAULT_BATCH_SIZE)
        )
        candidates = self._collect_late_fee_candidates(today)
        if not candidates:
            return []
        per_company = defaultdict(lambda: defaultdict(list))
        for candidate in candidates:
            per_company[candidate["company_id"]][candidate["partner_id"]].append(
                candidate
            )
        guard = self.env["installment.batch.guard"]
        auto_commit = guard._auto_commit()
        failures = []
        Partner = self.env["res.partner"]
        for company_id, per_partner in sorted(per_company.items()):
            company = self.env["res.company"].sudo().browse(company_id)
            run = self.sudo().with_company(company)
            batch, size = [], 0
            partner_ids = sorted(per_partner)
            for index, partner_id in enumerate(partner_ids):
                batch.append(partner_id)
                size += len(per_partner[partner_id])
                if size < batch_size and index < len(partner_ids) - 1:
                    continue
                failures += guard._run_isolated(
                    Partner.browse(batch),
                    partial(run._charge_partners, per_partner, today, company),
                    _("Late fee"),
                )
                if auto_commit:
                    # what is committed is in the fee log: never charged again
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                batch, size = [], 0
        _logger.info("Installment late fees: %s candidate(s)", len(candidates))
        return failures

    @api.model
    def _collect_late_fee_candidates(self, today):
        """(installment, period) pairs due by ``today`` and not in the fee log,
        for every company charging late fees, in ONE query.

        Period ``n`` of an installment is due once it has been late for more
        than ``grace + (n - 1) × repeat`` days; with no repeat only period 1
        exists, and never more than the company's maximum. Only active plans'
        late installments with something still due are charged.
        """
        self.env["installment.plan.line"].flush_model(
            [
                "state",
                "plan_state",
                "due_date",
                "amount_residual",
                "company_id",
                "partner_id",
                "plan_id",
                "move_id",
                "currency_id",
            ]
        )
        self.env["res.company"].flush_model(
            [
                "installment_late_fee_enabled",
                "installment_late_fee_grace_days",
                "installment_late_fee_repeat_days",
                "installment_late_fee_max_count",
            ]
        )
        self.env["installment.late.fee"].flush_model(["plan_line_id", "period"])
        return self.env.execute_query_dict(
            SQL(
                """
            SELECT line.id AS plan_line_id, line.plan_id, line.move_id,
                   line.partner_id, line.company_id, line.currency_id,
                   line.due_date, line.amount_residual, period.n AS period
              FROM installment_plan_line line
              JOIN res_company company ON company.id = line.company_id
             CROSS JOIN LATERAL (
                    SELECT COALESCE(company.installment_late_fee_grace_days, 0)
                               AS grace,
                           COALESCE(company.installment_late_fee_repeat_days, 0)
                               AS repeat,
                           GREATEST(
                               COALESCE(company.installment_late_fee_max_count, 1), 1)
                               AS max_count
             ) terms
             CROSS JOIN LATERAL generate_series(
                    1,
                    CASE WHEN terms.repeat > 0
                         THEN LEAST(
                                terms.max_count,
                                1 + (%(today)s::date - line.due_date - terms.grace - 1)
                                    / terms.repeat)
                         ELSE 1
                    END) AS period(n)
             WHERE company.installment_late_fee_enabled
               AND line.plan_state = 'active'
               AND line.state = 'late'
               AND line.amount_residual > 0
               AND line.due_date < %(today)s::date - terms.grace
               AND NOT EXISTS (
                    SELECT 1 FROM installment_late_fee fee
                     WHERE fee.plan_line_id = line.id AND fee.period = period.n)
             ORDER BY line.company_id, line.partner_id, line.plan_id,
                      line.due_date, line.id, period.n
                """,
                today=today,
            )
        )

    def _charge_partners(self, per_partner, today, company, partners):
        """Charge the candidates of these customers (``per_partner``: the
        company's candidates per customer id)."""
        self._charge_candidates(
            [c for partner in partners for c in per_partner[partner.id]],
            today,
            company,
        )

    def _charge_candidates(self, candidates, today, company):
        """Price, claim, invoice and post the fees of ``candidates`` (all of
        ``company``): one invoice per plan, one line per installment and
        period.

        :return: the ``installment.late.fee`` rows written
        """
        priced = self._price_candidates(candidates, today, company)
        fees = self._claim_fees(priced, today)
        if not fees:
            return fees
        per_plan = defaultdict(list)
        for fee in fees:
            per_plan[fee.plan_id].append(fee)
        labels = self.env["installment.reminder.log"]._plan_line_labels(
            fees.plan_line_id
        )
        formatter = ReminderFormatter(self.env, self.env.lang)
        journal = company._installment_late_fee_journal()
        product = company.installment_late_fee_product_id
        vals_list = []
        plans = list(per_plan)
        distributions = {}
        for plan in plans:
            invoice = plan.move_id
            distribution = self._fee_analytic_distribution(
                company, invoice.partner_id, product, distributions
            )
            vals_list.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": invoice.partner_id.id,
                    "company_id": company.id,
                    "journal_id": journal.id,
                    "currency_id": plan.currency_id.id,
                    "invoice_date": today,
                    "date": today,
                    # due at once, never an installment scheme of its own
                    "invoice_payment_term_id": False,
                    "invoice_date_due": today,
                    "invoice_origin": invoice.name,
                    "invoice_user_id": invoice.invoice_user_id.id,
                    "installment_fee_plan_id": plan.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": self.env._(
                                    "Late fee %(period)s: %(what)s, due %(date)s, "
                                    "%(late)s late",
                                    period=fee.period,
                                    what=labels.get(fee.plan_line_id.id, ""),
                                    date=formatter.date(fee.due_date),
                                    late=formatter.amount(
                                        fee.amount_late, fee.currency_id
                                    ),
                                ),
                                "quantity": 1.0,
                                "price_unit": fee.amount,
                                "analytic_distribution": distribution,
                            }
                        )
                        for fee in per_plan[plan]
                    ],
                }
            )
        for vals in vals_list:
            # The portal's plan page (read-only) links to each fee invoice with
            # its access token: minted here, not on the first view.
            vals["access_token"] = str(uuid.uuid4())
        moves = self.env["account.move"].with_company(company).create(vals_list)
        # A fee is owed under the agreement the customer already has: it is not
        # new business for the credit-limit check to refuse.
        moves.with_context(**{OVERRIDE_LIMIT_KEY: _LimitOverride(moves.ids)})._post(
            soft=False
        )
        links = {
            fee.id: move.id
            for plan, move in zip(plans, moves, strict=True)
            for fee in per_plan[plan]
        }
        self.env.execute_query(
            SQL(
                "UPDATE installment_late_fee fee SET fee_move_id = link.move_id "
                "FROM unnest(%s::int4[], %s::int4[]) AS link(id, move_id) "
                "WHERE fee.id = link.id",
                list(links),
                list(links.values()),
            )
        )
        fees.invalidate_recordset(["fee_move_id"])
        moves.invalidate_recordset(["installment_fee_ids"])
        bodies = {
            plan.id: Markup("<p>%s</p>")
            % self.env._(
                "Late fee invoice %(invoice)s posted: %(amount)s.",
                invoice=move.name,
                amount=formatter.amount(move.amount_total, move.currency_id),
            )
            for plan, move in zip(plans, moves, strict=True)
        }
        self.env["installment.plan"].browse(list(bodies))._message_log_batch(
            bodies=bodies, message_type="notification"
        )
        return fees

    def _fee_analytic_distribution(self, company, partner, product, cache):
        """The analytic distribution Odoo's analytic models give a fee line of
        ``partner``, looked up once per customer (``cache``), not once per
        line as the invoice line's compute does: the fee run's queries then
        do not grow with the number of installments charged."""
        position = (
            self.env["account.fiscal.position"]
            .with_company(company)
            ._get_fiscal_position(partner)
        )
        commercial = partner.commercial_partner_id
        account = product.product_tmpl_id.with_company(company).get_product_accounts(
            fiscal_pos=position
        )["income"]
        key = (commercial.id, account.id)
        if key not in cache:
            cache[key] = (
                self.env["account.analytic.distribution.model"]._get_distribution(
                    {
                        "product_id": product.id,
                        "product_categ_id": product.categ_id.id,
                        "partner_id": commercial.id,
                        "partner_category_id": commercial.category_id.ids,
                        "account_prefix": account.code,
                        "company_id": company.id,
                    }
                )
                or False
            )
        return cache[key]

    def _price_candidates(self, candidates, today, company):
        """The candidates with their fee (``amount``), rounded in the plan's
        currency; those whose fee rounds to zero are left out."""
        Currency = self.env["res.currency"]
        fixed = company.installment_late_fee_type == "fixed"
        converted = {}
        priced = []
        for candidate in candidates:
            currency = Currency.browse(candidate["currency_id"])
            if fixed:
                if currency.id not in converted:
                    converted[currency.id] = company.currency_id._convert(
                        company.installment_late_fee_amount, currency, company, today
                    )
                amount = converted[currency.id]
            else:
                amount = currency.round(
                    candidate["amount_residual"]
                    * company.installment_late_fee_percent
                    / 100.0
                )
            if float_is_zero(amount, precision_rounding=currency.rounding):
                continue
            priced.append({**candidate, "amount": amount})
        return priced

    def _claim_fees(self, candidates, today):
        """Insert the fee log rows; an (installment, period) already logged, by
        this run or by a concurrent one, is left out (ON CONFLICT DO NOTHING).

        :return: the fee rows inserted
        """
        Fee = self.env["installment.late.fee"]
        if not candidates:
            return Fee
        columns = [
            ("plan_line_id", "int4"),
            ("period", "int4"),
            ("plan_id", "int4"),
            ("move_id", "int4"),
            ("partner_id", "int4"),
            ("company_id", "int4"),
            ("due_date", "date"),
            ("currency_id", "int4"),
            ("amount_late", "numeric"),
            ("amount", "numeric"),
        ]
        source = {"amount_late": "amount_residual"}
        uid = self.env.uid
        now = SQL("(now() at time zone 'UTC')")
        rows = self.env.execute_query(
            SQL(
                """
            INSERT INTO installment_late_fee
                   (%(names)s, date, create_uid, create_date, write_uid, write_date)
            SELECT %(names)s, %(today)s, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(arrays)s) AS candidate(%(names)s)
            ON CONFLICT DO NOTHING
            RETURNING id
                """,
                names=SQL(", ").join(SQL.identifier(name) for name, _t in columns),
                arrays=SQL(", ").join(
                    SQL(
                        "%s::%s[]",
                        [c[source.get(name, name)] for c in candidates],
                        SQL(type_),
                    )
                    for name, type_ in columns
                ),
                today=today,
                uid=uid,
                now=now,
            )
        )
        if rows:
            # rows written in SQL: the inverse one2many caches are stale
            self.env["installment.plan.line"].invalidate_model(["late_fee_ids"])
            self.env["installment.plan"].invalidate_model(["late_fee_ids"])
        return Fee.browse(sorted(row[0] for row in rows))
