from collections import defaultdict

from markupsafe import Markup

from odoo import Command, _, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero

from .account_move import NO_AUTO_TOPUP_KEY, OVERRIDE_LIMIT_KEY


class _LimitOverride:
    """Context value of a manager's override: the documents it covers."""

    __slots__ = ("move_ids",)

    def __init__(self, move_ids):
        self.move_ids = frozenset(move_ids)


class AccountMove(models.Model):
    """Prepaid and postpaid customers: credit limit check at posting,
    settlement of prepaid customers' invoices from their balance."""

    _inherit = "account.move"

    def _billing_is_topup(self):
        """Whether this document only sells prepaid credit: a customer invoice
        whose product lines all credit the prepayment account of its company.

        A single line on that account does not make a top-up: a document that
        also sells anything else is an ordinary invoice, checked against the
        credit limit on its full amount and settled like any other.
        """
        self.ensure_one()
        account = self.company_id.prepayment_account_id
        if not account or self.move_type != "out_invoice":
            return False
        products = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        return bool(products) and all(line.account_id == account for line in products)

    def _billing_credit_limit_excess(self, lock=False):
        """Customers that posting ``self`` would take beyond their credit limit.

        Postpaid customers are checked when their company uses credit limits
        with the ``block`` policy and their limit is not zero: exposure is
        their receivable balance minus prepaid money held, plus what is still
        to invoice (sales), plus the documents of ``self``. Prepaid customers
        are always checked: their prepaid balance after posting may not go
        below minus their credit limit. Top-up invoices are never checked.

        :param lock: lock the partner rows before reading their balance (at
            posting, so that two concurrent postings cannot both pass)
        :return: list of dicts with ``partner``, ``company``, ``mode``,
            ``limit``, ``exposure`` and ``excess`` (company currency)
        """
        amounts_by_key = defaultdict(float)
        for move in self:
            if (
                move.state != "draft"
                or move.move_type not in ("out_invoice", "out_receipt")
                or not move.partner_id
            ):
                continue
            company = move.company_id
            partner = move.commercial_partner_id.with_company(company)
            if partner.billing_mode != "prepaid" and not (
                company.account_use_credit_limit
                and company.billing_limit_policy == "block"
            ):
                continue
            if move._billing_is_topup():
                continue
            # credit bought on an ordinary invoice is not paid yet: the whole
            # receivable counts
            amount = (
                move.amount_total_signed
                - move._get_partner_credit_warning_exclude_amount()
            )
            amounts_by_key[(company, partner)] += amount
        if lock and amounts_by_key:
            partners = self.env["res.partner"].browse(
                sorted({partner.id for (_company, partner) in amounts_by_key})
            )
            partners._billing_lock()
        # one read of the books per company, whatever the number of customers
        partners_by_company = defaultdict(lambda: self.env["res.partner"])
        for company, partner in amounts_by_key:
            partners_by_company[company] |= partner
        balances = {
            (company, partner_id): values["balance"]
            for company, partners in partners_by_company.items()
            for partner_id, values in partners._prepaid_get_amounts(company).items()
        }
        excesses = []
        for (company, partner), amount in amounts_by_key.items():
            currency = company.currency_id
            partner_sudo = partner.sudo()
            limit = partner_sudo.credit_limit
            mode = partner.billing_mode or "postpaid"
            if mode == "postpaid" and float_is_zero(
                limit, precision_rounding=currency.rounding
            ):
                continue
            balance = balances[(company, partner.id)]
            exposure = currency.round(
                -balance + amount + (partner_sudo.credit_to_invoice or 0.0)
            )
            excess = currency.round(exposure - limit)
            if float_compare(excess, 0.0, precision_rounding=currency.rounding) > 0:
                excesses.append(
                    {
                        "partner": partner,
                        "company": company,
                        "mode": mode,
                        "limit": limit,
                        "exposure": exposure,
                        "excess": excess,
                    }
                )
        return excesses

    def _billing_excess_lines(self, excesses):
        """One line per customer: the limit, the exposure and the excess."""
        lines = []
        for excess in excesses:
            currency = excess["company"].currency_id
            values = {
                "partner": excess["partner"].display_name,
                "limit": currency.format(excess["limit"]),
                "exposure": currency.format(excess["exposure"]),
                "excess": currency.format(excess["excess"]),
            }
            if excess["mode"] == "prepaid":
                lines.append(
                    _(
                        "%(partner)s (prepaid) would use %(exposure)s more than "
                        "their prepaid balance, beyond the credit limit of "
                        "%(limit)s by %(excess)s.",
                        **values,
                    )
                )
            else:
                lines.append(
                    _(
                        "%(partner)s: credit limit %(limit)s, exposure with these "
                        "documents %(exposure)s, excess %(excess)s.",
                        **values,
                    )
                )
        return lines

    def _billing_excess_message(self, excesses, for_manager=False):
        if for_manager:
            # the manager's confirmation dialog: they are the one to override
            return "\n".join(
                [_("Posting would exceed the credit limit.")]
                + self._billing_excess_lines(excesses)
                + [
                    _(
                        "Give the reason and post anyway, or cancel and ask for a "
                        "payment or a top-up, or raise the credit limit."
                    )
                ]
            )
        return "\n".join(
            [_("Posting is refused: the credit limit would be exceeded.")]
            + self._billing_excess_lines(excesses)
            + [
                _(
                    "Ask for a payment or a top-up, raise the credit limit, or ask a "
                    "manager to override."
                )
            ]
        )

    def _billing_may_override(self):
        # Only ``action_post_override_limit`` puts this object in the context:
        # a context coming over RPC is JSON and cannot carry it.
        token = self.env.context.get(OVERRIDE_LIMIT_KEY)
        return isinstance(token, _LimitOverride) and set(self.ids) <= token.move_ids

    def _billing_check_limits(self, soft=True):
        """Refuse posting beyond credit limits, unless a manager overrides
        through ``action_post_override_limit``."""
        if self._billing_may_override():
            return
        to_check = self
        if soft:
            today = fields.Date.context_today(self)
            to_check = self.filtered(lambda move: move.date <= today)
        excesses = to_check._billing_credit_limit_excess(lock=True)
        if excesses:
            raise UserError(self._billing_excess_message(excesses))

    def action_post_override_limit(self, reason):
        """Post the draft documents of ``self`` beyond the credit limits.

        The only way past the credit-limit check. The customers are locked and
        their excess computed again; when posting does exceed a limit, a note
        with the manager's name, the reason and each customer's limit,
        exposure and excess is logged on every document posted.

        :param reason: why the limit may be exceeded (required, not blank)
        :return: the result of ``action_post``
        :raise AccessError: the user is not an Installments & Credits manager
        :raise UserError: no reason was given
        """
        if not self.env.user.has_group("installment_credit.group_installment_manager"):
            raise AccessError(
                _("Only Installments & Credits managers can override credit limits.")
            )
        reason = (reason or "").strip()
        if not reason:
            raise UserError(
                _(
                    "Give the reason for exceeding the credit limit: it is logged "
                    "on the invoices."
                )
            )
        moves = self.filtered(lambda move: move.state == "draft")
        if not moves:
            return False
        excesses = moves._billing_credit_limit_excess(lock=True)
        token = _LimitOverride(moves.ids)
        result = moves.with_context(**{OVERRIDE_LIMIT_KEY: token}).action_post()
        if excesses:
            body = Markup("<br/>").join(
                [
                    _(
                        "Credit limit overridden by %(user)s.",
                        user=self.env.user.name,
                    ),
                    _("Reason: %(reason)s", reason=reason),
                    *moves._billing_excess_lines(excesses),
                ]
            )
            for move in moves:
                move.message_post(body=body)
        return result

    def _billing_after_post(self):
        """Remember posted top-up invoices on their customer; settle prepaid
        customers' other newly posted documents from their balance, then create
        their auto top-up invoices when the balance fell low."""
        docs = self.filtered(
            lambda move: (
                move.move_type in ("out_invoice", "out_receipt", "out_refund")
                and move.partner_id
            )
        )
        topups = docs.filtered(
            lambda move: move.move_type == "out_invoice" and move._billing_is_topup()
        )
        for topup in topups:
            topup.commercial_partner_id.with_company(
                topup.company_id
            ).sudo().prepaid_topup_move_id = topup
        docs -= topups
        for company, moves in docs.grouped("company_id").items():
            partners = moves.commercial_partner_id.with_company(company).filtered(
                lambda p: p.billing_mode == "prepaid"
            )
            if not partners:
                continue
            partners._prepaid_apply_balance(company)
            if not self.env.context.get(NO_AUTO_TOPUP_KEY):
                partners._prepaid_auto_topup(company)

    # ------------------------------------------------------------------
    # Un-posting: the same lock as settlement and withdrawal
    # ------------------------------------------------------------------
    def _billing_lock_balances(self, posted_only=True):
        """Lock the prepaid customers whose balance un-posting ``self`` (or,
        with ``posted_only=False``, posting it) may lower (payments, top-ups,
        settlements, their reversals, entries typed by hand) and read their
        balances.

        :return: dict company -> (partners, dict partner id -> balance)
        """
        moves = (
            self.filtered(lambda move: move.state == "posted") if posted_only else self
        )
        partners_by_company = moves.line_ids._billing_lock_prepaid_partners()
        return {
            company: (
                partners,
                {
                    pid: values["balance"]
                    for pid, values in partners._prepaid_get_amounts(company).items()
                },
            )
            for company, partners in partners_by_company.items()
        }

    def _billing_check_balances(self, before):
        """Refuse a change that lowered a prepaid balance below minus the
        customer's credit limit.

        :param before: the result of ``_billing_lock_balances``
        :raise UserError: naming the customer, its balance and limit
        """
        for company, (partners, balances) in before.items():
            currency = company.currency_id
            after = partners._prepaid_get_amounts(company)
            for partner in partners:
                balance = after[partner.id]["balance"]
                if currency.compare_amounts(balance, balances[partner.id]) >= 0:
                    continue
                limit = partner.sudo().credit_limit
                if currency.compare_amounts(-balance, limit) > 0:
                    raise UserError(
                        _(
                            "This would bring the prepaid balance of %(partner)s "
                            "to %(balance)s, below minus their credit limit of "
                            "%(limit)s. Settle or reset their invoices first, "
                            "record another payment, or ask a manager to raise "
                            "the credit limit.",
                            partner=partner.display_name,
                            balance=currency.format(balance),
                            limit=currency.format(limit),
                        )
                    )

    def action_post(self):
        if not self._billing_may_override() and self.env.user.has_group(
            "installment_credit.group_installment_manager"
        ):
            excesses = self._billing_credit_limit_excess()
            if excesses:
                wizard = self.env["billing.limit.override"].create(
                    {
                        "move_ids": [Command.set(self.ids)],
                        "message": self._billing_excess_message(
                            excesses, for_manager=True
                        ),
                    }
                )
                action = self.env["ir.actions.act_window"]._for_xml_id(
                    "installment_credit.billing_limit_override_action"
                )
                action["res_id"] = wizard.id
                return action
        return super().action_post()
