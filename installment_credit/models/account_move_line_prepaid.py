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
