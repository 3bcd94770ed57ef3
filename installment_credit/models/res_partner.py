from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, float_compare, float_is_zero, format_amount

from .installment_reminder_log import ReminderFormatter

BILLING_FIELDS = (
    "billing_mode",
    "auto_topup_enabled",
    "auto_topup_threshold",
    "auto_topup_amount",
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    installment_no_reminder = fields.Boolean(
        string="Exclude from Reminders",
        help="No payment reminder is emailed to this customer, neither by the "
        "daily run nor by hand.",
    )
    installment_open_count = fields.Integer(
        string="Open Installments", compute="_compute_installment_stats"
    )
    installment_late_amount = fields.Monetary(
        string="Late Installments",
        compute="_compute_installment_stats",
        currency_field="currency_id",
    )

    @api.depends_context("company")
    def _compute_installment_stats(self):
        commercial = self.commercial_partner_id
        groups = self.env["installment.plan.line"]._read_group(
            [
                ("partner_id", "in", commercial.ids),
                ("plan_state", "=", "active"),
                ("state", "!=", "paid"),
                ("company_id", "in", self.env.companies.ids),
            ],
            groupby=["partner_id", "state"],
            aggregates=["__count", "amount_residual:sum"],
        )
        counts, late = {}, {}
        for partner, state, count, residual in groups:
            counts[partner.id] = counts.get(partner.id, 0) + count
            if state == "late":
                late[partner.id] = late.get(partner.id, 0.0) + residual
        for partner in self:
            key = partner.commercial_partner_id.id
            partner.installment_open_count = counts.get(key, 0)
            partner.installment_late_amount = late.get(key, 0.0)

    def action_view_installments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_plan_line_action"
        )
        action["domain"] = [
            ("partner_id", "=", self.commercial_partner_id.id),
            ("plan_state", "=", "active"),
        ]
        action["context"] = {"search_default_filter_not_paid": 1}
        return action

    def action_register_installment_payment(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Register Installment Payment"),
            "res_model": "installment.payment.register",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    # ------------------------------------------------------------------
    # Prepaid and postpaid customers
    #
    # The prepaid balance of a customer in a company is read from posted
    # journal items only (see ``_prepaid_get_amounts``):
    #
    #   prepaid_balance = held - receivable
    #   held       = - SUM(balance) of the customer's posted items on the
    #                company's customer prepayment (liability) account
    #   receivable = SUM(balance) of the customer's posted items on
    #                receivable accounts (what they owe, net of payments and
    #                credit notes not yet applied to an invoice)
    #
    # i.e. minus the customer's partner-ledger balance over those accounts.
    # A paid top-up adds to ``held``; an unpaid one adds the same amount to
    # both terms (no usable credit); a settlement entry moves an invoice's
    # amount from the prepayment account to the receivable (no change); a
    # direct payment or a credit note lowers ``receivable``; a withdrawal
    # lowers ``held``. A negative balance is what the customer owes beyond
    # what they prepaid; it may not go below minus their credit limit.
    # ------------------------------------------------------------------
    billing_mode = fields.Selection(
        [("postpaid", "Postpaid"), ("prepaid", "Prepaid")],
        company_dependent=True,
        groups="account.group_account_invoice,account.group_account_readonly",
        help="Postpaid: the customer is invoiced and pays afterwards, within the "
        "credit limit. Prepaid: the customer buys credit in advance; invoices are "
        "settled from the prepaid balance when they are posted.",
    )
    auto_topup_enabled = fields.Boolean(
        string="Auto Top-up",
        company_dependent=True,
        groups="account.group_account_invoice,account.group_account_readonly",
        help="Send a top-up invoice when the prepaid balance drops below the "
        "threshold.",
    )
    auto_topup_threshold = fields.Float(
        string="Top-up Threshold",
        company_dependent=True,
        groups="account.group_account_invoice,account.group_account_readonly",
        digits="Account",
        help="A top-up invoice is created when the prepaid balance is below this "
        "amount (company currency).",
    )
    auto_topup_amount = fields.Float(
        string="Top-up Amount",
        company_dependent=True,
        groups="account.group_account_invoice,account.group_account_readonly",
        digits="Account",
        help="Amount of the automatic top-up invoice (company currency).",
    )
    prepaid_topup_move_id = fields.Many2one(
        "account.move",
        string="Last Top-up Invoice",
        company_dependent=True,
        groups="account.group_account_invoice,account.group_account_readonly",
        copy=False,
        readonly=True,
    )
    billing_currency_id = fields.Many2one(
        "res.currency", compute="_compute_billing_company_values"
    )
    billing_credit_limit_policy = fields.Selection(
        [("warn", "Warn"), ("block", "Block")],
        string="Credit Limit Policy",
        compute="_compute_billing_company_values",
    )
    prepaid_balance = fields.Monetary(
        compute="_compute_prepaid_balance",
        currency_field="billing_currency_id",
        groups="account.group_account_invoice,account.group_account_readonly",
        help="Held on the customer prepayment account minus the customer's "
        "receivable balance, from posted journal items (company currency).",
    )
    billing_over_limit = fields.Boolean(
        string="Over Credit Limit",
        compute="_compute_prepaid_balance",
        search="_search_billing_over_limit",
        groups="account.group_account_invoice,account.group_account_readonly",
    )
    billing_below_threshold = fields.Boolean(
        string="Below Top-up Threshold",
        compute="_compute_prepaid_balance",
        search="_search_billing_below_threshold",
        groups="account.group_account_invoice,account.group_account_readonly",
    )

    @api.depends_context("company")
    def _compute_billing_company_values(self):
        for partner in self:
            partner.billing_currency_id = self.env.company.currency_id
            partner.billing_credit_limit_policy = self.env.company.credit_limit_policy

    @api.depends_context("company")
    def _compute_prepaid_balance(self):
        company = self.env.company
        records = self.filtered(lambda p: p._origin.id)
        (self - records).update(
            {
                "prepaid_balance": 0.0,
                "billing_over_limit": False,
                "billing_below_threshold": False,
            }
        )
        amounts = records._origin._prepaid_get_amounts(company)
        for partner in records:
            commercial = partner._origin.commercial_partner_id
            balance = amounts[commercial.id]["balance"]
            partner.prepaid_balance = balance
            partner.billing_over_limit = commercial._billing_is_over_limit(
                balance, company
            )
            partner.billing_below_threshold = commercial._billing_is_below_threshold(
                balance, company
            )

    # ------------------------------------------------------------------
    # Balance from the books
    # ------------------------------------------------------------------
    def _billing_open_receivable_domain(self, company):
        """Posted, unreconciled receivable items of these commercial partners."""
        return [
            ("company_id", "=", company.id),
            ("parent_state", "=", "posted"),
            ("partner_id.commercial_partner_id", "in", self.ids),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
        ]

    def _prepaid_get_amounts(self, company):
        """Read the prepaid position of the commercial partners of ``self``.

        One ``_read_group`` over posted journal items, whatever the number of
        partners.

        :param company: the ``res.company`` whose books are read
        :return: dict commercial partner id -> dict with ``held`` (credit
            balance on the prepayment account), ``receivable`` (balance on
            receivable accounts) and ``balance`` (``held - receivable``), all
            in company currency and rounded
        """
        commercials = self.commercial_partner_id
        result = {
            pid: {"held": 0.0, "receivable": 0.0, "balance": 0.0}
            for pid in commercials.ids
        }
        if not commercials:
            return result
        account = company.prepayment_account_id
        account_domain = [("account_id.account_type", "=", "asset_receivable")]
        if account:
            account_domain = expression.OR(
                [account_domain, [("account_id", "=", account.id)]]
            )
        domain = expression.AND(
            [
                [
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                    ("partner_id.commercial_partner_id", "in", commercials.ids),
                ],
                account_domain,
            ]
        )
        groups = self.env["account.move.line"]._read_group(
            domain, ["partner_id", "account_id"], ["balance:sum"]
        )
        currency = company.currency_id
        for partner, line_account, balance in groups:
            values = result.setdefault(
                partner.commercial_partner_id.id,
                {"held": 0.0, "receivable": 0.0, "balance": 0.0},
            )
            if line_account == account:
                values["held"] -= balance
            else:
                values["receivable"] += balance
        for values in result.values():
            values["held"] = currency.round(values["held"])
            values["receivable"] = currency.round(values["receivable"])
            values["balance"] = currency.round(values["held"] - values["receivable"])
        return result

    def _prepaid_pending_topups(self, company):
        """Top-up invoices of ``self`` (commercial partners) not paid yet.

        A top-up invoice is a customer invoice with a line on the prepayment
        account. Drafts count: they will become an unpaid top-up once posted.

        :return: dict commercial partner id -> ``account.move`` recordset
        """
        result = defaultdict(lambda: self.env["account.move"])
        account = company.prepayment_account_id
        if not self or not account:
            return result
        moves = self.env["account.move"].search(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "in", ("draft", "posted")),
                ("payment_state", "not in", ("paid", "in_payment", "reversed")),
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("line_ids.account_id", "=", account.id),
            ]
        )
        for move in moves:
            result[move.commercial_partner_id.id] |= move
        return result

    def _prepaid_spendable(self, company, amounts=None):
        """Part of the money held on the prepayment account that is really paid.

        ``held`` minus the unpaid part of posted top-up invoices (that part is
        on the prepayment account, but the customer owes it on the receivable),
        never below zero.

        :return: dict commercial partner id -> amount in company currency
        """
        amounts = amounts or self._prepaid_get_amounts(company)
        pending = self._prepaid_pending_topups(company)
        currency = company.currency_id
        result = {}
        for partner in self.commercial_partner_id:
            unpaid = sum(
                move.amount_residual_signed
                for move in pending[partner.id]
                if move.state == "posted"
            )
            result[partner.id] = max(
                currency.round(amounts[partner.id]["held"] - unpaid), 0.0
            )
        return result

    def _prepaid_withdrawable(self, company):
        """How much of their balance the commercial partners of ``self`` may
        take back, and from where.

        At most the positive prepaid balance, taken first from paid money held
        on the prepayment account, then from credits not yet applied on the
        receivable (direct payments, credit notes).

        :return: dict commercial partner id -> dict with ``held``,
            ``receivable`` and ``total`` (company currency)
        """
        commercials = self.commercial_partner_id
        amounts = commercials._prepaid_get_amounts(company)
        spendable = commercials._prepaid_spendable(company, amounts)
        groups = self.env["account.move.line"]._read_group(
            commercials._billing_open_receivable_domain(company)
            + [("amount_residual", "<", 0.0)],
            ["partner_id"],
            ["amount_residual:sum"],
        )
        unapplied = defaultdict(float)
        for partner, residual in groups:
            unapplied[partner.commercial_partner_id.id] -= residual
        currency = company.currency_id
        result = {}
        for partner in commercials:
            total = max(amounts[partner.id]["balance"], 0.0)
            held = min(spendable[partner.id], total)
            receivable = currency.round(min(total - held, unapplied[partner.id]))
            result[partner.id] = {
                "held": held,
                "receivable": receivable,
                "total": currency.round(held + receivable),
            }
        return result

    def _billing_is_over_limit(self, balance, company):
        self.ensure_one()
        partner = self.with_company(company)
        limit = partner.sudo().credit_limit
        currency = company.currency_id
        if partner.billing_mode == "prepaid":
            return (
                float_compare(-balance, limit, precision_rounding=currency.rounding) > 0
            )
        if not company.account_use_credit_limit or float_is_zero(
            limit, precision_rounding=currency.rounding
        ):
            return False
        return float_compare(-balance, limit, precision_rounding=currency.rounding) > 0

    def _billing_is_below_threshold(self, balance, company):
        self.ensure_one()
        partner = self.with_company(company)
        return bool(
            partner.billing_mode == "prepaid"
            and partner.auto_topup_enabled
            and float_compare(
                balance,
                partner.auto_topup_threshold,
                precision_rounding=company.currency_id.rounding,
            )
            < 0
        )

    def _billing_candidates(self, company):
        """Commercial partners with posted items on the accounts of the balance."""
        account_domain = [("account_id.account_type", "=", "asset_receivable")]
        if company.prepayment_account_id:
            account_domain = expression.OR(
                [
                    account_domain,
                    [("account_id", "=", company.prepayment_account_id.id)],
                ]
            )
        domain = expression.AND(
            [
                [
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                    ("partner_id", "!=", False),
                ],
                account_domain,
            ]
        )
        groups = self.env["account.move.line"]._read_group(domain, ["partner_id"])
        return self.browse([partner.id for (partner,) in groups]).commercial_partner_id

    def _search_billing_over_limit(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on Over Credit Limit."))
        company = self.env.company
        candidates = self._billing_candidates(company)
        amounts = candidates._prepaid_get_amounts(company)
        ids = [
            p.id
            for p in candidates
            if p._billing_is_over_limit(amounts[p.id]["balance"], company)
        ]
        positive = (operator == "=") == value
        return [("commercial_partner_id", "in" if positive else "not in", ids)]

    def _search_billing_below_threshold(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on Below Top-up Threshold."))
        company = self.env.company
        candidates = (
            self.with_company(company)
            .search(
                [("billing_mode", "=", "prepaid"), ("auto_topup_enabled", "=", True)]
            )
            .commercial_partner_id
        )
        amounts = candidates._prepaid_get_amounts(company)
        ids = [
            p.id
            for p in candidates
            if p._billing_is_below_threshold(amounts[p.id]["balance"], company)
        ]
        positive = (operator == "=") == value
        return [("commercial_partner_id", "in" if positive else "not in", ids)]

    # ------------------------------------------------------------------
    # Constraints and mode switch
    # ------------------------------------------------------------------
    @api.constrains(
        "credit_limit",
        "auto_topup_threshold",
        "auto_topup_amount",
        "auto_topup_enabled",
    )
    def _check_billing_amounts(self):
        for partner in self:
            if partner.sudo().credit_limit < 0:
                raise ValidationError(
                    _(
                        "The credit limit of %(partner)s cannot be negative; use 0 "
                        "for no credit.",
                        partner=partner.display_name,
                    )
                )
            if partner.auto_topup_threshold < 0 or partner.auto_topup_amount < 0:
                raise ValidationError(
                    _(
                        "The auto top-up threshold and amount of %(partner)s cannot "
                        "be negative.",
                        partner=partner.display_name,
                    )
                )
            if partner.auto_topup_enabled:
                company = self.env.company
                if not company.prepaid_product_id:
                    raise ValidationError(
                        _(
                            "Auto top-up needs a prepaid credit product: set it in "
                            "Invoicing > Configuration > Settings > Prepaid "
                            "customers for %(company)s.",
                            company=company.display_name,
                        )
                    )
                if float_is_zero(
                    partner.auto_topup_amount,
                    precision_rounding=company.currency_id.rounding,
                ):
                    raise ValidationError(
                        _(
                            "Set the auto top-up amount of %(partner)s (greater "
                            "than zero) to enable auto top-up.",
                            partner=partner.display_name,
                        )
                    )

    @api.onchange("billing_mode")
    def _onchange_billing_mode(self):
        origin = self._origin.sudo()
        if (
            origin
            and origin.billing_mode == "prepaid"
            and self.billing_mode == "postpaid"
            and origin.commercial_partner_id.prepaid_balance > 0
        ):
            return {
                "warning": {
                    "title": _("Switching to postpaid"),
                    "message": _(
                        "The unused prepaid balance of %(amount)s stays with the "
                        "customer: when you save, it is moved from the prepayment "
                        "account to the receivable as outstanding credit, to be "
                        "applied to their next invoices or refunded.",
                        amount=origin.billing_currency_id.format(
                            origin.commercial_partner_id.prepaid_balance
                        ),
                    ),
                }
            }
        return None

    def write(self, vals):
        if not any(fname in vals for fname in BILLING_FIELDS):
            return super().write(vals)
        company = self.env.company
        foreign = self.filtered(lambda p: p.company_id and p.company_id != company)
        if foreign:
            raise UserError(
                _(
                    "%(partner)s belongs to %(other)s: switch to that company to "
                    "change its billing settings.",
                    partner=foreign[0].display_name,
                    other=foreign[0].company_id.display_name,
                )
            )
        leaving_prepaid = self.browse()
        if vals.get("billing_mode") == "postpaid":
            leaving_prepaid = self.filtered(lambda p: p.billing_mode == "prepaid")
        switched = self.browse()
        if "billing_mode" in vals:
            switched = self.filtered(lambda p: p.billing_mode != vals["billing_mode"])
        res = super().write(vals)
        if switched:
            for partner in switched:
                partner.message_post(
                    body=_(
                        "Billing mode set to %(mode)s in %(company)s.",
                        mode=dict(
                            self._fields["billing_mode"]._description_selection(
                                self.env
                            )
                        ).get(vals["billing_mode"], vals["billing_mode"]),
                        company=company.display_name,
                    )
                )
        if leaving_prepaid:
            leaving_prepaid._prepaid_release_to_receivable(company)
        return res

    def _prepaid_release_to_receivable(self, company):
        """Move the spendable prepaid money of ``self`` to the receivable.

        Used when a customer leaves prepaid billing: the money stays theirs and
        becomes outstanding credit on the receivable (a new posted entry, the
        balance formula is unchanged).

        :return: the posted ``account.move`` records
        """
        commercials = self.commercial_partner_id
        account = company.prepayment_account_id
        if not commercials or not account:
            return self.env["account.move"]
        commercials._billing_lock()
        spendable = commercials._prepaid_spendable(company)
        currency = company.currency_id
        vals_list = []
        for partner in commercials:
            amount = spendable[partner.id]
            if currency.is_zero(amount):
                continue
            receivable = partner.with_company(company).property_account_receivable_id
            label = _("Prepaid balance released as outstanding credit")
            vals_list.append(
                {
                    "move_type": "entry",
                    "company_id": company.id,
                    "journal_id": company._get_prepaid_journal().id,
                    "partner_id": partner.id,
                    "ref": label,
                    "line_ids": [
                        Command.create(
                            {
                                "account_id": account.id,
                                "partner_id": partner.id,
                                "name": label,
                                "balance": amount,
                            }
                        ),
                        Command.create(
                            {
                                "account_id": receivable.id,
                                "partner_id": partner.id,
                                "name": label,
                                "balance": -amount,
                            }
                        ),
                    ],
                }
            )
        moves = self.env["account.move"].with_company(company).create(vals_list)
        moves._post(soft=False)
        return moves

    # ------------------------------------------------------------------
    # Services: locking, settlement, auto top-up
    # ------------------------------------------------------------------
    def _billing_lock(self):
        """Lock the partner rows of ``self`` until the end of the transaction.

        Everything that spends a prepaid balance or creates a top-up calls this
        first, in id order (no deadlocks between two batches). The no-op
        UPDATE matters: under REPEATABLE READ a row that was only locked by a
        transaction that committed meanwhile can be locked again without error,
        so a concurrent transaction would act on its stale snapshot. A row
        version written by it makes PostgreSQL raise a serialization failure
        instead, which Odoo retries with a fresh snapshot.
        """
        if not self.ids:
            return
        self.flush_recordset()
        ids = tuple(sorted(set(self.ids)))
        self.env.cr.execute(
            SQL("SELECT id FROM res_partner WHERE id IN %s ORDER BY id FOR UPDATE", ids)
        )
        self.env.cr.execute(
            SQL("UPDATE res_partner SET write_date = write_date WHERE id IN %s", ids)
        )

    def _prepaid_apply_balance(self, company):
        """Settle the open invoices of prepaid customers from their balance.

        For each commercial partner of ``self`` that is prepaid in ``company``,
        oldest due first: reconcile the open customer invoices with the
        outstanding credits on the receivable (direct payments, credit notes),
        then settle what remains from the paid money held on the prepayment
        account, one posted settlement entry per invoice (debit prepayment,
        credit receivable) reconciled with the invoice. Top-up invoices are
        never settled from the balance. Invoices themselves are not modified.

        :return: the posted settlement entries
        """
        partners = (
            self.commercial_partner_id.with_company(company)
            .filtered(lambda p: p.billing_mode == "prepaid")
            .sorted("id")
        )
        settlements = self.env["account.move"]
        if not partners:
            return settlements
        partners._billing_lock()
        account = company.prepayment_account_id
        lines = self.env["account.move.line"].search(
            partners._billing_open_receivable_domain(company)
            + [("amount_residual", "!=", 0.0)],
            order="date_maturity, date, id",
        )

        def is_topup(line):
            return bool(account) and account in line.move_id.line_ids.account_id

        debits = lines.filtered(
            lambda line: (
                line.amount_residual > 0
                and line.move_id.move_type in ("out_invoice", "out_receipt")
                and not is_topup(line)
            )
        )
        credits = lines.filtered(lambda line: line.amount_residual < 0)
        for group in debits.grouped(
            lambda line: (line.partner_id.commercial_partner_id, line.account_id)
        ).values():
            matching = credits.filtered(
                lambda line, grp=group: (
                    line.account_id == grp.account_id
                    and line.partner_id.commercial_partner_id
                    == grp.partner_id.commercial_partner_id
                )
            )
            if matching:
                (group + matching).reconcile()
        if not account:
            return settlements
        debits = debits.filtered(lambda line: not line.reconciled)
        spendable = partners._prepaid_spendable(company)
        currency = company.currency_id
        journal = company._get_prepaid_journal()
        vals_list, to_match = [], []
        for line in debits:
            partner = line.partner_id.commercial_partner_id
            amount = min(line.amount_residual, spendable[partner.id])
            amount = currency.round(amount)
            if float_compare(amount, 0.0, precision_rounding=currency.rounding) <= 0:
                continue
            spendable[partner.id] -= amount
            if currency.compare_amounts(amount, line.amount_residual) == 0:
                amount_currency = line.amount_residual_currency
            else:
                amount_currency = line.currency_id.round(
                    amount * line.amount_residual_currency / line.amount_residual
                )
            label = _("Prepaid settlement of %(invoice)s", invoice=line.move_id.name)
            common = {
                "partner_id": partner.id,
                "name": label,
                "currency_id": line.currency_id.id,
            }
            vals_list.append(
                {
                    "move_type": "entry",
                    "company_id": company.id,
                    "journal_id": journal.id,
                    "date": max(line.move_id.date, fields.Date.context_today(self)),
                    "partner_id": partner.id,
                    "ref": label,
                    "line_ids": [
                        Command.create(
                            {
                                **common,
                                "account_id": account.id,
                                "balance": amount,
                                "amount_currency": amount_currency,
                            }
                        ),
                        Command.create(
                            {
                                **common,
                                "account_id": line.account_id.id,
                                "balance": -amount,
                                "amount_currency": -amount_currency,
                            }
                        ),
                    ],
                }
            )
            to_match.append(line)
        if not vals_list:
            return settlements
        settlements = self.env["account.move"].with_company(company).create(vals_list)
        settlements._post(soft=False)
        for settlement, line in zip(settlements, to_match, strict=True):
            counterpart = settlement.line_ids.filtered(
                lambda aml, acc=line.account_id: aml.account_id == acc
            )
            (counterpart + line).reconcile()
        return settlements

    def _prepaid_auto_topup(self, company):
        """Create, post and send one top-up invoice per partner below threshold.

        For each commercial partner of ``self`` that is prepaid with auto
        top-up enabled in ``company``: when its balance is below the threshold
        and it has no unpaid (or draft) top-up invoice, an invoice of the
        auto top-up amount for the prepaid credit product is posted and sent
        by email. Partner rows are locked first, so two transactions can never
        both create one.

        :return: the created top-up invoices
        """
        moves = self.env["account.move"]
        product = company.prepaid_product_id
        if not product or not company.prepayment_account_id:
            return moves
        partners = (
            self.commercial_partner_id.with_company(company)
            .filtered(
                lambda p: (
                    p.billing_mode == "prepaid"
                    and p.auto_topup_enabled
                    and p.auto_topup_amount > 0
                )
            )
            .sorted("id")
        )
        if not partners:
            return moves
        partners._billing_lock()
        amounts = partners._prepaid_get_amounts(company)
        below = partners.filtered(
            lambda p: p._billing_is_below_threshold(amounts[p.id]["balance"], company)
        )
        pending = below._prepaid_pending_topups(company)
        todo = below.filtered(lambda p: not pending[p.id])
        if not todo:
            return moves
        moves = todo._prepaid_create_topup_invoices(
            company, {p.id: p.auto_topup_amount for p in todo}
        )
        template = self.env.ref(
            "installment_credit.mail_template_prepaid_topup", raise_if_not_found=False
        )
        for move in moves:
            move.message_post(
                body=_(
                    "Automatic top-up: the prepaid balance of %(balance)s is below "
                    "the threshold of %(threshold)s.",
                    balance=company.currency_id.format(
                        amounts[move.commercial_partner_id.id]["balance"]
                    ),
                    threshold=company.currency_id.format(
                        move.commercial_partner_id.with_company(
                            company
                        ).auto_topup_threshold
                    ),
                )
            )
            if template:
                move.with_context(lang=move.partner_id.lang).message_post_with_source(
                    template,
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
        moves.is_move_sent = True
        return moves

    def _prepaid_create_topup_invoices(self, company, amount_by_partner):
        """Create and post top-up invoices for the prepaid credit product.

        :param company: the invoicing company
        :param amount_by_partner: dict commercial partner id -> amount (company
            currency, > 0)
        :return: the posted invoices, in the order of ``self``
        :raise UserError: when the company has no prepaid credit product
        """
        product = company.prepaid_product_id
        if not product:
            raise UserError(
                _(
                    "No prepaid credit product is configured for %(company)s: set "
                    "it in Invoicing > Configuration > Settings.",
                    company=company.display_name,
                )
            )
        vals_list = [
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": partner.id,
                "currency_id": company.currency_id.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": 1.0,
                            "price_unit": amount_by_partner[partner.id],
                        }
                    )
                ],
            }
            for partner in self
        ]
        moves = (
            self.env["account.move"]
            .with_company(company)
            .with_context(default_move_type="out_invoice")
            .create(vals_list)
        )
        moves._post(soft=False)
        return moves

    @api.model
    def _cron_prepaid_auto_topup(self, batch_size=50):
        """Daily: top-up invoices for prepaid customers below their threshold.

        Companies one after the other, partners in batches of ``batch_size``,
        committing after each batch and reporting progress to the cron. Runs
        as superuser: it works for every company, whatever the cron's user.
        """
        partner_model = self.sudo()
        companies = partner_model.env["res.company"].search(
            [
                ("prepaid_product_id", "!=", False),
                ("prepayment_account_id", "!=", False),
            ]
        )
        todo = []
        for company in companies:
            partners = (
                partner_model.with_company(company)
                .search(
                    [
                        ("billing_mode", "=", "prepaid"),
                        ("auto_topup_enabled", "=", True),
                        ("auto_topup_amount", ">", 0),
                        "|",
                        ("company_id", "=", False),
                        ("company_id", "=", company.id),
                    ]
                )
                .commercial_partner_id
            )
            todo += [
                (company, partners[i : i + batch_size])
                for i in range(0, len(partners), batch_size)
            ]
        for done, (company, batch) in enumerate(todo, start=1):
            batch.with_company(company)._prepaid_auto_topup(company)
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(todo) - done)
            if partner_model.env["account.move"]._can_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_prepaid_history(self):
        """Open the journal items behind the prepaid balance."""
        self.ensure_one()
        company = self.env.company
        partner = self.commercial_partner_id
        account_domain = [("account_id.account_type", "=", "asset_receivable")]
        if company.prepayment_account_id:
            account_domain = expression.OR(
                [
                    account_domain,
                    [("account_id", "=", company.prepayment_account_id.id)],
                ]
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("Prepaid balance of %(partner)s", partner=partner.display_name),
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "views": [
                (self.env.ref("account.view_move_line_tree").id, "list"),
                (False, "form"),
            ],
            "domain": expression.AND(
                [
                    [
                        ("company_id", "=", company.id),
                        ("parent_state", "=", "posted"),
                        ("partner_id.commercial_partner_id", "=", partner.id),
                    ],
                    account_domain,
                ]
            ),
            "context": {"search_default_group_by_account": 1, "create": False},
        }

    def action_prepaid_topup(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Top up"),
            "res_model": "prepaid.balance.topup",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_prepaid_withdraw(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Withdraw credit"),
            "res_model": "prepaid.balance.withdraw",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_prepaid_apply_balance(self):
        """Settle the customer's open invoices from the prepaid balance now."""
        self.ensure_one()
        company = self.env.company
        if self.with_company(company).commercial_partner_id.billing_mode != "prepaid":
            raise UserError(
                _(
                    "%(partner)s is not a prepaid customer in %(company)s.",
                    partner=self.commercial_partner_id.display_name,
                    company=company.display_name,
                )
            )
        self._prepaid_apply_balance(company)
        return True

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["installment_no_reminder"]

    def _installment_reminder_items(self):
        """What a reminder email lists for this customer.

        Reads the send logs handed over by the reminder run in the context
        key ``installment_reminder_logs`` (``((partner_id, (log_id, ...)),
        ...)``). Returns a dict: ``items`` (one dict per target: ``label``,
        ``due_date``, ``amount``, ``status``), ``totals`` (formatted amount
        per currency) and ``company``.
        """
        self.ensure_one()
        raw_payload = self.env.context.get("installment_reminder_logs") or ()
        # A template calls this for its subject, sender and body, once per
        # customer of the batch: the first call computes every customer of the
        # payload rendered in this language, the others read the cursor's
        # cache (it lives as long as the run).
        cache = self.env.cr.cache.setdefault("installment_reminder_items", {})
        key = (raw_payload, self.env.lang)
        per_partner = cache.setdefault(key, {})
        if self.id not in per_partner:
            per_partner.update(self._installment_reminder_items_batch(raw_payload))
        return per_partner[self.id]

    def _installment_reminder_items_batch(self, raw_payload):
        """``{partner id: items}`` for ``self`` and the other customers of the
        payload whose emails are rendered in the same language."""
        payload = dict(raw_payload)
        partners = self.browse(list(payload)).exists()
        env_lang = self.env.lang
        partners = self | partners.filtered(
            lambda partner: (partner.lang or env_lang) == (self.lang or env_lang)
        )
        return partners._installment_reminder_items_compute(raw_payload)

    def _installment_reminder_items_compute(self, raw_payload):
        """``{partner id: items}`` (see :meth:`_installment_reminder_items`)
        for every customer of ``self``."""
        payload = dict(raw_payload)
        all_ids = [log_id for ids in payload.values() for log_id in ids]
        all_logs = self.env["installment.reminder.log"].sudo().browse(all_ids)
        mine = all_logs.browse(
            [log_id for partner in self for log_id in payload.get(partner.id, ())]
        ).with_prefetch(all_ids)
        labels = mine._reminder_labels()
        formatters = {}
        result = {}
        for partner in self:
            logs = all_logs.browse(payload.get(partner.id, ())).with_prefetch(all_ids)
            lang = partner.lang or self.env.lang
            if lang not in formatters:
                formatters[lang] = ReminderFormatter(self.env, lang)
            fmt = formatters[lang]
            items, totals = [], {}
            for log in logs.sorted(lambda log: (log.due_date, log.id)):
                # As of the day the reminder was sent (the run's date, which
                # a catch-up run sets in the past), not of the rendering.
                days = (log.date - log.due_date).days
                if days > 0:
                    status = self.env._("%s day(s) overdue", days)
                elif days == 0:
                    status = self.env._("due today")
                else:
                    status = self.env._("due in %s day(s)", -days)
                items.append(
                    {
                        "label": labels[log.id],
                        "due_date": fmt.date(log.due_date),
                        "amount": fmt.amount(log.amount_residual, log.currency_id),
                        "status": status,
                        "overdue": days > 0,
                    }
                )
                totals[log.currency_id] = totals.get(log.currency_id, 0.0) + (
                    log.amount_residual
                )
            result[partner.id] = {
                "items": items,
                "totals": [
                    format_amount(self.env, amount, currency, lang)
                    for currency, amount in totals.items()
                ],
                "company": logs.company_id[:1] or self.env.company,
            }
        return result

    credit_grant_ids = fields.One2many(
        "credit.grant",
        "partner_id",
        string="Credit grants",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_consumption_ids = fields.One2many(
        "credit.consumption",
        "partner_id",
        string="Credit consumptions",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_balance_ids = fields.One2many(
        "credit.report.balance",
        "partner_id",
        string="Credit balance",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_grant_count = fields.Integer(
        string="Credits",
        compute="_compute_credit_grant_count",
        groups="installment_credit.group_installment_user",
    )

    def _compute_credit_grant_count(self):
        counts = dict(
            self.env["credit.grant"]._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("state", "=", "active"),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.credit_grant_count = counts.get(partner.commercial_partner_id, 0)

    # ------------------------------------------------------------------
    # Service API
    # ------------------------------------------------------------------
    def consume_credits(
        self,
        credit_type,
        quantity,
        reference=None,
        idempotency_key=None,
        date=None,
        description=None,
    ):
        """Spend ``quantity`` units of ``credit_type`` for this customer.

        Units come from the customer's active grants usable on ``date``, nearest
        expiry first, then oldest start (FEFO). The grants are locked for the
        rest of the transaction, so concurrent calls for the same customer and
        type serialize and can never overdraw.

        :param credit_type: ``credit.type`` record or id (active).
        :param float quantity: positive, a multiple of the type's rounding.
        :param reference: free text, or a record (stored as a link to it).
        :param str idempotency_key: unique per company; calling again with the
            same key and the same customer, type and quantity returns the first
            consumption and spends nothing more.
        :param date: consumption date (default: today).
        :param str description: optional label.
        :return: the ``credit.consumption`` record.
        :raises UserError: bad quantity, archived type, no grants of that type,
            not enough units (the message gives requested and available), or a
            key reused for a different request. Nothing is written then.
        """
        self.ensure_one()
        self.env["credit.consumption"]._check_ledger_rights()
        partner = self.commercial_partner_id
        if isinstance(credit_type, int):
            credit_type = self.env["credit.type"].browse(credit_type)
        credit_type = credit_type.with_context(active_test=False).exists()
        if len(credit_type) != 1:
            raise UserError(_("Give exactly one existing credit type to consume."))
        if not credit_type.active:
            raise UserError(
                _(
                    "Credit type %(type)s is archived: its units cannot be consumed.",
                    type=credit_type.name,
                )
            )
        credit_type._check_quantity(quantity)
        quantity = credit_type._round(quantity)
        company = credit_type.company_id
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        # The caller's rights were checked above (group, and record rules while
        # reading the type and the partner); the ledger itself is read-only.
        Consumption = self.env["credit.consumption"].sudo()

        if idempotency_key:
            existing = Consumption.search(
                [
                    ("company_id", "=", company.id),
                    ("idempotency_key", "=", idempotency_key),
                ],
                limit=1,
            )
            if existing:
                if (
                    existing.partner_id != partner
                    or existing.credit_type_id != credit_type
                    or credit_type._compare(existing.quantity, quantity)
                ):
                    raise UserError(
                        _(
                            "Idempotency key %(key)s was already used for "
                            "%(qty)s %(unit)s of %(type)s for %(partner)s: this "
                            "is a different request, use a new key.",
                            key=idempotency_key,
                            qty=existing.credit_type_id._format(existing.quantity),
                            unit=existing.credit_type_id.unit_name,
                            type=existing.credit_type_id.name,
                            partner=existing.partner_id.display_name,
                        )
                    )
                return self.env["credit.consumption"].browse(existing.id)

        Grant = self.env["credit.grant"].sudo()
        grants, available = Grant._lock_fefo(
            partner, credit_type, company, date, quantity
        )
        if credit_type._compare(available, quantity) < 0:
            if not grants and not Grant.search_count(
                [
                    ("partner_id", "=", partner.id),
                    ("credit_type_id", "=", credit_type.id),
                ],
                limit=1,
            ):
                raise UserError(
                    _(
                        "%(partner)s has no %(type)s credits: sell them a package "
                        "first.",
                        partner=partner.display_name,
                        type=credit_type.name,
                    )
                )
            raise UserError(
                _(
                    "Not enough %(type)s for %(partner)s: %(requested)s %(unit)s "
                    "requested, %(available)s %(unit)s available on %(date)s.",
                    type=credit_type.name,
                    partner=partner.display_name,
                    requested=credit_type._format(quantity),
                    available=credit_type._format(available),
                    unit=credit_type.unit_name,
                    date=date,
                )
            )

        allocations = []
        to_allocate = quantity
        for grant in grants:
            if credit_type._compare(to_allocate, 0.0) <= 0:
                break
            take = min(grant.quantity_remaining, to_allocate)
            if credit_type._compare(take, 0.0) <= 0:
                continue
            take = credit_type._round(take)
            allocations.append(Command.create({"grant_id": grant.id, "quantity": take}))
            to_allocate = credit_type._round(to_allocate - take)

        vals = {
            "partner_id": partner.id,
            "company_id": company.id,
            "credit_type_id": credit_type.id,
            "quantity": quantity,
            "date": date,
            "description": description,
            "idempotency_key": idempotency_key or False,
            "allocation_ids": allocations,
        }
        if isinstance(reference, models.BaseModel):
            reference.ensure_one()
            vals.update(
                reference=reference.display_name,
                res_model=reference._name,
                res_id=reference.id,
            )
        else:
            vals["reference"] = reference or False
        consumption = Consumption.create(vals)
        consumption._check_allocations()
        return self.env["credit.consumption"].browse(consumption.id)

    @api.model
    def _credit_status_for(self, partners, date=None):
        """Per partner and credit type: remaining units, next expiry date and
        quantity, units consumed in the month of ``date``. Batched: three
        aggregate queries whatever the number of partners."""
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        month_start = date.replace(day=1)
        partners = partners.commercial_partner_id
        Grant = self.env["credit.grant"]
        usable = [
            ("partner_id", "in", partners.ids),
            ("state", "=", "active"),
            ("date_expiry", ">", date),
        ]
        status = {}
        for partner, ctype, remaining, next_expiry in Grant._read_group(
            usable,
            ["partner_id", "credit_type_id"],
            ["quantity_remaining:sum", "date_expiry:min"],
        ):
            status[partner, ctype] = {
                "remaining": remaining,
                "next_expiry": next_expiry,
                "next_expiry_quantity": 0.0,
                "consumed_this_month": 0.0,
            }
        for partner, ctype, expiry, remaining in Grant._read_group(
            usable,
            ["partner_id", "credit_type_id", "date_expiry:day"],
            ["quantity_remaining:sum"],
        ):
            entry = status.get((partner, ctype))
            if entry and entry["next_expiry"] == expiry:
                entry["next_expiry_quantity"] = remaining
        for partner, ctype, consumed in self.env["credit.consumption"]._read_group(
            [
                ("partner_id", "in", partners.ids),
                ("state", "=", "done"),
                ("date", ">=", month_start),
                ("date", "<", month_start + relativedelta(months=1)),
            ],
            ["partner_id", "credit_type_id"],
            ["quantity:sum"],
        ):
            entry = status.setdefault(
                (partner, ctype),
                {
                    "remaining": 0.0,
                    "next_expiry": False,
                    "next_expiry_quantity": 0.0,
                    "consumed_this_month": 0.0,
                },
            )
            entry["consumed_this_month"] = consumed
        return status

    def get_credit_status(self, date=None):
        """Status of this customer's credits, one dict per credit type:
        ``credit_type_id``, ``remaining``, ``next_expiry``,
        ``next_expiry_quantity``, ``consumed_this_month``."""
        self.ensure_one()
        status = self._credit_status_for(self, date)
        return [
            dict(values, credit_type_id=ctype.id)
            for (_partner, ctype), values in sorted(
                status.items(), key=lambda item: item[0][1].name
            )
        ]

    # ------------------------------------------------------------------
    # Selling packages
    # ------------------------------------------------------------------
    def _credit_create_package_invoice(self, package):
        """Create a draft customer invoice selling ``package`` and open it."""
        self.ensure_one()
        package._check_sellable()
        invoice = (
            self.env["account.move"]
            .with_company(package.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.commercial_partner_id.id,
                    "invoice_date": fields.Date.context_today(self),
                    "invoice_line_ids": [
                        Command.create({"product_id": package.product_id.id})
                    ],
                }
            )
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": invoice.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _credit_open_sell_wizard(self, kind):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Renew") if kind == "subscription" else _("Recharge"),
            "res_model": "credit.package.sell",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_package_kind": kind,
            },
        }

    def action_credit_renew(self):
        return self._credit_open_sell_wizard("subscription")

    def action_credit_recharge(self):
        return self._credit_open_sell_wizard("recharge")

    def action_credit_register_consumption(self):
        self.ensure_one()
        context = {"default_partner_id": self.commercial_partner_id.id}
        types = self.env["credit.grant"]._read_group(
            [
                ("partner_id", "=", self.commercial_partner_id.id),
                ("state", "=", "active"),
                ("company_id", "=", self.env.company.id),
            ],
            ["credit_type_id"],
        )
        if len(types) == 1:
            # One type in use: propose it.
            context["default_credit_type_id"] = types[0][0].id
        return {
            "type": "ir.actions.act_window",
            "name": _("Register consumption"),
            "res_model": "credit.consumption.register",
            "view_mode": "form",
            "target": "new",
            "context": context,
        }

    def action_view_credit_grants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_grant_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_filter_active": 1,
        }
        return action
