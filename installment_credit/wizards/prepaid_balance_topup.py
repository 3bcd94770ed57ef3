# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class PrepaidBalanceTopup(models.TransientModel):
    _name = "prepaid.balance.topup"
    _description = "Top up a prepaid balance"

    partner_id = fields.Many2one("res.partner", required=True, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    method = fields.Selection(
        [("invoice", "Top-up invoice"), ("payment", "Payment received")],
        required=True,
        default="invoice",
        help="Top-up invoice: the credit becomes usable once the invoice is paid. "
        "Payment received: the money is already received, usable at once.",
    )
    amount = fields.Monetary(
        currency_field="currency_id",
        required=True,
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="Proposed: the customer's auto top-up amount.",
    )
    pending_topup_note = fields.Char(
        compute="_compute_pending_topup_note",
        help="The customer's top-up invoices not paid yet: their credit becomes "
        "usable once they are paid.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        compute="_compute_journal_id",
        store=True,
        readonly=False,
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    memo = fields.Char()
    # What this wizard created: a second submission opens it again.
    move_id = fields.Many2one("account.move", readonly=True)
    payment_id = fields.Many2one("account.payment", readonly=True)

    @api.depends("partner_id", "company_id")
    def _compute_amount(self):
        for wizard in self:
            partner = wizard.partner_id.commercial_partner_id.with_company(
                wizard.company_id
            )
            wizard.amount = partner.auto_topup_amount if partner else 0.0

    @api.depends("partner_id", "company_id")
    def _compute_pending_topup_note(self):
        for wizard in self:
            wizard.pending_topup_note = False
            partner = wizard.partner_id.commercial_partner_id
            if not partner or not wizard.company_id:
                continue
            pending = partner._prepaid_pending_topups(wizard.company_id)[partner.id]
            if pending:
                wizard.pending_topup_note = _(
                    "%(partner)s already has unpaid top-up invoice(s): "
                    "%(invoices)s. Their credit becomes usable once they are paid.",
                    partner=partner.display_name,
                    invoices=", ".join(
                        self.env._(
                            "%(name)s (%(amount)s)",
                            name=move.name or self.env._("draft"),
                            amount=move.currency_id.format(
                                move.amount_residual
                                if move.state == "posted"
                                else move.amount_total
                            ),
                        )
                        for move in pending.sorted("id")
                    ),
                )

    @api.depends("company_id", "method")
    def _compute_journal_id(self):
        for wizard in self:
            if wizard.method == "payment" and not wizard.journal_id:
                wizard.journal_id = self.env["account.journal"].search(
                    [
                        *self.env["account.journal"]._check_company_domain(
                            wizard.company_id
                        ),
                        ("type", "in", ("bank", "cash")),
                    ],
                    limit=1,
                )

    def _check_input(self):
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id.commercial_partner_id.with_company(company)
        if partner.billing_mode != "prepaid":
            raise UserError(
                _(
                    "%(partner)s is not a prepaid customer in %(company)s: set its "
                    "billing mode to Prepaid first.",
                    partner=partner.display_name,
                    company=company.display_name,
                )
            )
        if self.currency_id.compare_amounts(self.amount, 0.0) <= 0:
            raise UserError(_("The top-up amount must be greater than zero."))
        if not company.prepayment_account_id:
            raise UserError(
                _(
                    "Set the customer prepayment account of %(company)s in "
                    "Invoicing > Configuration > Settings first.",
                    company=company.display_name,
                )
            )
        if self.method == "payment" and not self.journal_id:
            raise UserError(_("Choose the bank or cash journal of the payment."))
        return partner

    def _action_open_result(self):
        return (self.move_id or self.payment_id)._get_records_action(context={})

    def action_confirm(self):
        """Create the top-up: a posted top-up invoice or a posted payment.

        Once per wizard: the wizard row is locked and remembers what it
        created, so a second submission (double click, retried request) opens
        the same document instead of creating another one; a concurrent one
        fails to serialize and, retried, finds it.

        :return: an action opening the created document
        :raise UserError: partner not prepaid, amount not positive, missing
            configuration
        """
        self.ensure_one()
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM prepaid_balance_topup WHERE id = %s FOR UPDATE",
                self.id,
            )
        )
        self.invalidate_recordset(["move_id", "payment_id"])
        if self.move_id or self.payment_id:
            return self._action_open_result()
        partner = self._check_input()
        company = self.company_id
        if self.method == "invoice":
            self.move_id = partner._prepaid_create_topup_invoices(
                company, {partner.id: self.amount}
            )
            return self._action_open_result()
        payment = (
            self.env["account.payment"]
            .with_company(company)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "amount": self.amount,
                    "currency_id": company.currency_id.id,
                    "journal_id": self.journal_id.id,
                    "date": self.date,
                    "memo": self.memo or _("Prepaid top-up"),
                    "destination_account_id": company.prepayment_account_id.id,
                }
            )
        )
        payment.action_post()
        self.payment_id = payment
        return self._action_open_result()
