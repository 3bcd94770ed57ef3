# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError


class PrepaidBalanceWithdraw(models.TransientModel):
    _name = "prepaid.balance.withdraw"
    _description = "Return unused prepaid credit to a customer"

    partner_id = fields.Many2one("res.partner", required=True, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    balance = fields.Monetary(
        compute="_compute_balance", currency_field="currency_id", string="Usable"
    )
    amount = fields.Monetary(currency_field="currency_id", required=True)
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        default=lambda self: self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.env.company),
                ("type", "in", ("bank", "cash")),
            ],
            limit=1,
        ),
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    reason = fields.Char(required=True)

    @api.depends("partner_id", "company_id")
    def _compute_balance(self):
        for wizard in self:
            partner = wizard.partner_id.commercial_partner_id
            wizard.balance = partner._prepaid_withdrawable(wizard.company_id)[
                partner.id
            ]["total"]

    def action_confirm(self):
        """Pay unused prepaid credit back to the customer.

        Outbound customer payments, first from the money held on the prepayment
        account, then from unapplied credits on the receivable; the reason is
        logged on the customer.

        :return: an action opening the payments
        :raise UserError: amount not positive or above the usable balance, no
            reason
        """
        self.ensure_one()
        company = self.company_id
        currency = company.currency_id
        partner = self.partner_id.commercial_partner_id.with_company(company)
        if not (self.reason or "").strip():
            raise UserError(_("Give the reason for the withdrawal."))
        if currency.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(_("The amount to withdraw must be greater than zero."))
        partner._billing_lock()
        usable = partner._prepaid_withdrawable(company)[partner.id]
        if currency.compare_amounts(self.amount, usable["total"]) > 0:
            raise UserError(
                _(
                    "%(partner)s can withdraw at most %(usable)s: %(amount)s is "
                    "more than their usable prepaid balance.",
                    partner=partner.display_name,
                    usable=currency.format(usable["total"]),
                    amount=currency.format(self.amount),
                )
            )
        from_held = currency.round(min(self.amount, usable["held"]))
        from_receivable = currency.round(self.amount - from_held)
        vals_list = []
        common = {
            "payment_type": "outbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "currency_id": currency.id,
            "journal_id": self.journal_id.id,
            "date": self.date,
            "memo": _("Prepaid withdrawal: %(reason)s", reason=self.reason),
        }
        if not currency.is_zero(from_held):
            vals_list.append(
                {
                    **common,
                    "amount": from_held,
                    "destination_account_id": company.prepayment_account_id.id,
                }
            )
        if not currency.is_zero(from_receivable):
            vals_list.append(
                {
                    **common,
                    "amount": from_receivable,
                    "destination_account_id": partner.property_account_receivable_id.id,
                }
            )
        payments = self.env["account.payment"].with_company(company).create(vals_list)
        payments.action_post()
        if not currency.is_zero(from_receivable):
            receivable = partner.property_account_receivable_id
            outstanding = self.env["account.move.line"].search(
                [
                    ("company_id", "=", company.id),
                    ("parent_state", "=", "posted"),
                    ("partner_id.commercial_partner_id", "=", partner.id),
                    ("account_id", "=", receivable.id),
                    ("reconciled", "=", False),
                    ("amount_residual", "<", 0.0),
                ],
                order="date, id",
            )
            payment_lines = payments.move_id.line_ids.filtered(
                lambda line: line.account_id == receivable
            )
            (payment_lines + outstanding).reconcile()
        partner.message_post(
            body=_(
                "Prepaid credit withdrawn: %(amount)s. Reason: %(reason)s",
                amount=currency.format(self.amount),
                reason=self.reason,
            )
        )
        return payments._get_records_action(name=_("Withdrawal"), context={})
