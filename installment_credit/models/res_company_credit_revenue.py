# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

REVENUE_FIELDS = (
    "credit_revenue_on_use",
    "credit_deferred_account_id",
    "credit_breakage_account_id",
)


class ResCompany(models.Model):
    """Credit packages: revenue recognised when the units are used (IFRS 15 /
    ASC 606 contract liability), breakage when they expire."""

    _inherit = "res.company"

    credit_revenue_on_use = fields.Boolean(
        string="Recognise credit revenue on use",
        help="Package invoice lines post to the deferred revenue account; the "
        "daily run moves the value of the units used to income and of the units "
        "expired to breakage. Only grants of invoices posted while this is on "
        "are deferred.",
    )
    credit_deferred_account_id = fields.Many2one(
        "account.account",
        string="Deferred credit revenue account",
        check_company=True,
        domain="[('account_type', 'in', "
        "('liability_current', 'liability_non_current'))]",
        help="Liability account of package sales until their units are used or "
        "expire (a package may set its own).",
    )
    credit_breakage_account_id = fields.Many2one(
        "account.account",
        string="Credit breakage account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="Income account of the value of units that expired unused.",
    )

    @api.constrains(*REVENUE_FIELDS)
    def _check_credit_revenue_accounts(self):
        for company in self.filtered("credit_revenue_on_use"):
            if not (
                company.credit_deferred_account_id
                and company.credit_breakage_account_id
            ):
                raise ValidationError(
                    _(
                        "Company %(company)s recognises credit revenue on use: set "
                        "its deferred credit revenue account and its credit "
                        "breakage account first (Invoicing › Settings › Credit "
                        "packages).",
                        company=company.name,
                    )
                )

    def write(self, vals):
        if (
            any(fname in vals for fname in REVENUE_FIELDS)
            and not self.env.su
            and not self.env.user.has_group(
                "installment_credit.group_installment_manager"
            )
        ):
            raise AccessError(
                _(
                    "Only Installments & Credits managers can change how credit "
                    "revenue is recognised. Ask a manager to make this change."
                )
            )
        return super().write(vals)
