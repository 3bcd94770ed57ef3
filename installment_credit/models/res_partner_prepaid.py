from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, float_compare


class ResPartner(models.Model):
    _inherit = "res.partner"

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

    @api.model
    def _prepaid_books_domain(self, company):
        """Posted journal items of ``company`` behind prepaid balances: those on
        receivable accounts and on the company's prepayment account."""
        account_domain = [("account_id.account_type", "=", "asset_receivable")]
        if company.prepayment_account_id:
            account_domain = expression.OR(
                [
                    account_domain,
                    [("account_id", "=", company.prepayment_account_id.id)],
                ]
            )
        return expression.AND(
            [
                [("company_id", "=", company.id), ("parent_state", "=", "posted")],
                account_domain,
            ]
        )

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
        domain = self._prepaid_books_domain(company) + [
            ("partner_id.commercial_partner_id", "in", commercials.ids)
        ]
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

    def _prepaid_documents_buying_credit(self, company):
        """Customer invoices of ``self`` (commercial partners) with a line on the
        prepayment account that are not paid yet, drafts included.

        :return: ``account.move`` recordset
        """
        account = company.prepayment_account_id
        if not self or not account:
            return self.env["account.move"]
        return self.env["account.move"].search(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "in", ("draft", "posted")),
                ("payment_state", "not in", ("paid", "in_payment", "reversed")),
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("line_ids.account_id", "=", account.id),
            ]
        )

    def _prepaid_pending_topups(self, company):
        """Top-up invoices of ``self`` (commercial partners) not paid yet.

        A top-up invoice only sells prepaid credit (see
        ``account.move._billing_is_topup``). Drafts count: they will become an
        unpaid top-up once posted.

        :return: dict commercial partner id -> ``account.move`` recordset
        """
        result = defaultdict(lambda: self.env["account.move"])
        moves = self._prepaid_documents_buying_credit(company)
        for move in moves.filtered(lambda m: m._billing_is_topup()):
            result[move.commercial_partner_id.id] |= move
        return result

    def _prepaid_spendable(self, company, amounts=None):
        """Part of the money held on the prepayment account that is really paid.

        ``held`` minus the credit bought on posted invoices and not paid yet
        (that part is on the prepayment account, but the customer owes it on
        the receivable), never below zero. Of an invoice that sells credit and
        something else, at most the credit bought is unpaid credit.

        :return: dict commercial partner id -> amount in company currency
        """
        amounts = amounts or self._prepaid_get_amounts(company)
        account = company.prepayment_account_id
        moves = self._prepaid_documents_buying_credit(company).filtered(
            lambda m: m.state == "posted"
        )
        unpaid = defaultdict(float)
        for move in moves:
            bought = -sum(
                move.line_ids.filtered(lambda line: line.account_id == account).mapped(
                    "balance"
                )
            )
            unpaid[move.commercial_partner_id.id] += max(
                min(move.amount_residual_signed, bought), 0.0
            )
        currency = company.currency_id
        return {
            partner.id: max(
                currency.round(amounts[partner.id]["held"] - unpaid[partner.id]), 0.0
            )
            for partner in self.commercial_partner_id
        }

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
        debits = lines.filtered(
            lambda line: (
                line.amount_residual > 0
                and line.move_id.move_type in ("out_invoice", "out_receipt")
                and not line.move_id._billing_is_topup()
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
        A customer whose top-up fails (an account that cannot be used...) is
        skipped and noted in its chatter; the others go on, and the action
        ends as failed when one was skipped.
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
        guard = partner_model.env["installment.batch.guard"]
        failures = []
        for done, (company, batch) in enumerate(todo, start=1):
            failures += guard._run_isolated(
                batch,
                lambda partners, company=company: partners.with_company(
                    company
                )._prepaid_auto_topup(company),
                _("Automatic top-up"),
            )
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(todo) - done)
            if partner_model.env["account.move"]._can_commit():
                self.env.cr.commit()  # pylint: disable=invalid-commit
        guard._raise_if_skipped(failures, _("Automatic top-ups"), done=len(todo))
