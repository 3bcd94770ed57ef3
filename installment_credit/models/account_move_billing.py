from collections import defaultdict

from odoo import Command, _, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from .account_move import NO_AUTO_TOPUP_KEY, OVERRIDE_LIMIT_KEY


class AccountMove(models.Model):
    """Prepaid and postpaid customers: credit limit check at posting,
    settlement of prepaid customers' invoices from their balance."""

    _inherit = "account.move"

    def _billing_is_topup(self):
        """Whether this document sells prepaid credit (a line on the prepayment
        account of its company)."""
        self.ensure_one()
        account = self.company_id.prepayment_account_id
        return bool(account) and account in self.line_ids.account_id

    def _billing_exposure_amount(self):
        """Company-currency amount this document adds to the customer's exposure:
        its receivable total, minus what it credits to the prepayment account."""
        self.ensure_one()
        account = self.company_id.prepayment_account_id
        prepaid_part = 0.0
        if account:
            prepaid_part = -sum(
                self.line_ids.filtered(lambda line: line.account_id == account).mapped(
                    "balance"
                )
            )
        return self.amount_total_signed - prepaid_part

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
            amount = (
                move._billing_exposure_amount()
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

    def _billing_excess_message(self, excesses):
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
        return "\n".join(
            [_("Posting is refused: the credit limit would be exceeded.")]
            + lines
            + [
                _(
                    "Ask for a payment or a top-up, raise the credit limit, or ask a "
                    "manager to override."
                )
            ]
        )

    def _billing_may_override(self):
        return bool(self.env.context.get(OVERRIDE_LIMIT_KEY)) and (
            self.env.su
            or self.env.user.has_group("installment_credit.group_installment_manager")
        )

    def _billing_check_limits(self, soft=True):
        """Refuse posting beyond credit limits, unless a manager overrides."""
        if self._billing_may_override():
            return
        to_check = self
        if soft:
            today = fields.Date.context_today(self)
            to_check = self.filtered(lambda move: move.date <= today)
        excesses = to_check._billing_credit_limit_excess(lock=True)
        if excesses:
            raise UserError(self._billing_excess_message(excesses))

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

    def action_post(self):
        if not self.env.context.get(OVERRIDE_LIMIT_KEY) and self.env.user.has_group(
            "installment_credit.group_installment_manager"
        ):
            excesses = self._billing_credit_limit_excess()
            if excesses:
                wizard = self.env["billing.limit.override"].create(
                    {
                        "move_ids": [Command.set(self.ids)],
                        "message": self._billing_excess_message(excesses),
                    }
                )
                return {
                    "type": "ir.actions.act_window",
                    "name": _("Credit limit exceeded"),
                    "res_model": "billing.limit.override",
                    "res_id": wizard.id,
                    "view_mode": "form",
                    "target": "new",
                }
        return super().action_post()
