from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

BILLING_FIELDS = (
    "billing_mode",
    "auto_topup_enabled",
    "auto_topup_threshold",
    "auto_topup_amount",
)
# What the credit-limit and prepaid checks rely on: managers only change them.
LIMIT_FIELDS = (*BILLING_FIELDS, "credit_limit", "use_partner_credit_limit")
MANAGER_GROUP = "installment_credit.group_installment_manager"


class ResPartner(models.Model):
    """Prepaid and postpaid customers: billing settings per company, the
    balance and limit flags shown on the customer, the mode switch, buttons.
    The balance itself, settlement and auto top-up: ``res_partner_prepaid.py``."""

    _inherit = "res.partner"

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
    billing_limit_policy = fields.Selection(
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
            partner.billing_limit_policy = self.env.company.billing_limit_policy

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
        domain = self._prepaid_books_domain(company) + [("partner_id", "!=", False)]
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

    # ------------------------------------------------------------------
    # Who may change what the limit check relies on
    # ------------------------------------------------------------------
    def _billing_is_default_value(self, fname, value):
        """Whether ``value`` of limit field ``fname`` is what a new customer
        gets anyway (postpaid, the company's default limit, no auto top-up)."""
        if fname == "billing_mode":
            return value in (False, None, "postpaid")
        if fname == "credit_limit":
            fallback = self._fields["credit_limit"].get_company_dependent_fallback(self)
            return float_compare(value or 0.0, fallback or 0.0, precision_digits=6) == 0
        return not value

    def _billing_changes_limit_fields(self, vals):
        """Names of the limit fields ``vals`` would change on ``self``."""
        changed = []
        for fname in LIMIT_FIELDS:
            if fname not in vals:
                continue
            field = self._fields[fname]
            new = field.convert_to_record(
                field.convert_to_cache(vals[fname], self), self
            )
            for partner in self:
                old = partner.sudo()[fname]
                if field.type == "float":
                    differs = (
                        float_compare(old or 0.0, new or 0.0, precision_digits=6) != 0
                    )
                else:
                    differs = old != new
                if differs:
                    changed.append(fname)
                    break
        return changed

    def _billing_check_manager(self, fnames):
        if not fnames or self.env.su or self.env.user.has_group(MANAGER_GROUP):
            return
        labels = ", ".join(
            self._fields[fname]._description_string(self.env) for fname in fnames
        )
        raise AccessError(
            _(
                "Only Installments & Credits managers can change the credit limit "
                "and billing settings of a customer (%(fields)s): the credit-limit "
                "check relies on them. Ask a manager to make this change.",
                fields=labels,
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        self._billing_check_manager(
            sorted(
                {
                    fname
                    for vals in vals_list
                    for fname in LIMIT_FIELDS
                    if fname in vals
                    and not self._billing_is_default_value(fname, vals[fname])
                }
            )
        )
        return super().create(vals_list)

    def write(self, vals):
        if any(fname in vals for fname in LIMIT_FIELDS):
            self._billing_check_manager(self._billing_changes_limit_fields(vals))
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

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    @api.readonly
    def action_prepaid_history(self):
        """Open the journal items behind the prepaid balance."""
        self.ensure_one()
        company = self.env.company
        partner = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_account_moves_all"
        )
        action.update(
            name=_("Prepaid balance of %(partner)s", partner=partner.display_name),
            domain=self._prepaid_books_domain(company)
            + [("partner_id.commercial_partner_id", "=", partner.id)],
            context={"create": False},
            # newest first, with the balance after each movement
            views=[
                (
                    self.env.ref(
                        "installment_credit.account_move_line_view_list_prepaid"
                    ).id,
                    "list",
                ),
                (False, "pivot"),
                (False, "graph"),
            ],
            view_mode="list,pivot,graph",
        )
        return action

    @api.readonly
    def action_prepaid_topup(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.prepaid_balance_topup_action"
        )
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    @api.readonly
    def action_prepaid_withdraw(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.prepaid_balance_withdraw_action"
        )
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

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
