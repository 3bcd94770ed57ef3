from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """Late fees on late installments: the company's terms."""

    _inherit = "res.company"

    installment_late_fee_enabled = fields.Boolean(
        string="Charge Late Fees",
        help="The daily run charges a fee on each late installment, as a separate "
        "customer invoice linked to the plan.",
    )
    installment_late_fee_type = fields.Selection(
        [("fixed", "Fixed amount"), ("percentage", "Percentage of the late amount")],
        string="Late Fee Type",
        default="fixed",
        required=True,
    )
    installment_late_fee_amount = fields.Monetary(
        string="Late Fee Amount",
        currency_field="currency_id",
        help="Fixed fee per late installment and period, in the company's currency "
        "(converted to the invoice's currency on the day it is charged).",
    )
    installment_late_fee_percent = fields.Float(
        string="Late Fee (%)",
        digits=(16, 4),
        help="Percentage of what is still due on the late installment when the "
        "fee is charged.",
    )
    installment_late_fee_grace_days = fields.Integer(
        string="Late Fee Grace Days",
        default=0,
        help="Days an installment may be late before the first fee: with 5, an "
        "installment due on the 10th is charged on the 16th.",
    )
    installment_late_fee_repeat_days = fields.Integer(
        string="Repeat Late Fee Every (days)",
        default=0,
        help="Charge the fee again every this many days while the installment is "
        "late (0: charge it once).",
    )
    installment_late_fee_max_count = fields.Integer(
        string="Maximum Late Fees per Installment",
        default=1,
        help="At most this many fees per installment when the fee repeats.",
    )
    installment_late_fee_product_id = fields.Many2one(
        "product.product",
        string="Late Fee Product",
        check_company=True,
        help="Product of the fee invoices' lines: its income account and customer "
        "taxes apply.",
    )
    installment_late_fee_journal_id = fields.Many2one(
        "account.journal",
        string="Late Fee Journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Sales journal of the fee invoices (default: the first sales journal).",
    )

    @api.constrains(
        "installment_late_fee_enabled",
        "installment_late_fee_type",
        "installment_late_fee_amount",
        "installment_late_fee_percent",
        "installment_late_fee_grace_days",
        "installment_late_fee_repeat_days",
        "installment_late_fee_max_count",
        "installment_late_fee_product_id",
        "installment_late_fee_journal_id",
    )
    def _check_installment_late_fee(self):
        for company in self.filtered("installment_late_fee_enabled"):
            errors = []
            if not company.installment_late_fee_product_id:
                errors.append(_("choose the late fee product"))
            if company.installment_late_fee_type == "fixed":
                if company.installment_late_fee_amount <= 0:
                    errors.append(_("set a late fee amount above zero"))
            elif not 0 < company.installment_late_fee_percent <= 100:
                errors.append(_("set a late fee percentage above 0 and at most 100"))
            if company.installment_late_fee_grace_days < 0:
                errors.append(_("set the grace days to 0 or more"))
            if company.installment_late_fee_repeat_days < 0:
                errors.append(_("set the repeat interval to 0 (once) or more days"))
            if company.installment_late_fee_max_count < 1:
                errors.append(_("set the maximum number of fees to 1 or more"))
            journal = company.installment_late_fee_journal_id
            if journal and journal.type != "sale":
                errors.append(_("choose a sales journal for the fee invoices"))
            if errors:
                raise ValidationError(
                    _(
                        "Late fees of %(company)s cannot be enabled as configured: "
                        "%(errors)s (Invoicing › Settings › Installments).",
                        company=company.name,
                        errors="; ".join(errors),
                    )
                )

    def _installment_late_fee_journal(self):
        """The journal of this company's fee invoices."""
        self.ensure_one()
        return self.installment_late_fee_journal_id or self.env[
            "account.journal"
        ].search(
            [
                *self.env["account.journal"]._check_company_domain(self),
                ("type", "=", "sale"),
            ],
            limit=1,
        )
