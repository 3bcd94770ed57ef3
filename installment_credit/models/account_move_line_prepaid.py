from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    prepaid_running_balance = fields.Monetary(
        string="Running Balance",
        currency_field="company_currency_id",
        compute="_compute_prepaid_running_balance",
        help="The customer's prepaid balance after this item, in the list's "
        "order: minus the cumulated balance of the items listed up to it.",
    )

    @api.depends_context("order_cumulated_balance", "domain_cumulated_balance")
    def _compute_prepaid_running_balance(self):
        # Odoo's cumulated balance over the list's domain and order (see
        # search_fetch); a prepaid balance is held money, i.e. its opposite.
        for line in self:
            line.prepaid_running_balance = -line.cumulated_balance

    def _billing_lock_prepaid_partners(self):
        """Lock the prepaid customers of these journal items (those on a
        receivable account or the company's prepayment account), in one
        ordered statement for all companies: anything that may lower a prepaid
        balance takes this lock, as settlement and withdrawal do.

        :return: dict company -> the prepaid commercial partners locked
        """
        partners_by_company = {}
        for company, lines in self.sudo().grouped("company_id").items():
            account = company.prepayment_account_id
            partners = (
                lines.filtered(
                    lambda line, acc=account: (
                        line.partner_id
                        and (
                            line.account_id == acc
                            or line.account_id.account_type == "asset_receivable"
                        )
                    )
                )
                .partner_id.commercial_partner_id.with_company(company)
                .filtered(lambda p: p.billing_mode == "prepaid")
            )
            if partners:
                partners_by_company[company] = partners.with_env(self.env)
        self.env["res.partner"].browse(
            sorted({pid for p in partners_by_company.values() for pid in p.ids})
        )._billing_lock()
        return partners_by_company
