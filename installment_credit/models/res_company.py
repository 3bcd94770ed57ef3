# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    # ------------------------------------------------------------------
    # Prepaid and postpaid customers
    # ------------------------------------------------------------------
    credit_limit_policy = fields.Selection(
        [("warn", "Warn"), ("block", "Block")],
        default="warn",
        required=True,
        help="Warn: Odoo's banner on draft invoices of customers over their credit "
        "limit. Block: posting an invoice that takes a postpaid customer above the "
        "limit is refused (managers may override with a reason).",
    )
    prepayment_account_id = fields.Many2one(
        "account.account",
        string="Customer Prepayment Account",
        check_company=True,
        domain="[('account_type', 'in', ('liability_current', "
        "'liability_non_current'))]",
        help="Liability account holding what prepaid customers paid in advance and "
        "have not used yet. Its partner balance is the prepaid balance.",
    )
    prepaid_product_id = fields.Many2one(
        "product.product",
        string="Prepaid Credit Product",
        check_company=True,
        help="Service sold on top-up invoices. Its income account must be the "
        "customer prepayment account.",
    )
    prepaid_journal_id = fields.Many2one(
        "account.journal",
        string="Prepaid Settlement Journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Miscellaneous journal for the entries settling prepaid customers' "
        "invoices from their balance. Defaults to the first miscellaneous journal.",
    )

    @api.constrains("prepayment_account_id", "prepaid_product_id")
    def _check_prepaid_configuration(self):
        for company in self:
            account = company.prepayment_account_id
            if account and account.account_type not in (
                "liability_current",
                "liability_non_current",
            ):
                raise ValidationError(
                    _(
                        "The customer prepayment account %(account)s must be a "
                        "liability account: prepaid balances are money the company "
                        "owes its customers.",
                        account=account.display_name,
                    )
                )
            product = company.prepaid_product_id
            if not product:
                continue
            if not account:
                raise ValidationError(
                    _(
                        "Set the customer prepayment account before the prepaid "
                        "credit product."
                    )
                )
            if product.type != "service":
                raise ValidationError(
                    _(
                        "The prepaid credit product %(product)s must be a service.",
                        product=product.display_name,
                    )
                )
            income = product.with_company(
                company
            ).product_tmpl_id._get_product_accounts()["income"]
            if income != account:
                raise ValidationError(
                    _(
                        "The income account of the prepaid credit product "
                        "%(product)s is %(income)s; set it to the customer "
                        "prepayment account %(account)s so that top-up invoices "
                        "credit the prepayment account.",
                        product=product.display_name,
                        income=income.display_name or _("(none)"),
                        account=account.display_name,
                    )
                )

    def _get_prepaid_journal(self):
        """Return the journal of prepaid settlement entries for this company."""
        self.ensure_one()
        return self.prepaid_journal_id or self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self),
                ("type", "=", "general"),
            ],
            limit=1,
        )
