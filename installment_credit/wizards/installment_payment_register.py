from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..tools import schedule


class InstallmentPaymentRegister(models.TransientModel):
    """Customer-level payment: one amount, one payment, applied to the
    customer's open installments oldest due date first across invoices."""

    _name = "installment.payment.register"
    _description = "Register Installment Payment"

    partner_id = fields.Many2one(
        "res.partner", required=True, domain=[("is_company", "=", True)]
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
        default=lambda self: self.env["account.journal"].search(
            [
                ("type", "in", ("bank", "cash")),
                ("company_id", "=", self.env.company.id),
            ],
            limit=1,
        ),
    )
    amount = fields.Monetary(
        required=True,
        compute="_compute_amount",
        store=True,
        readonly=False,
        precompute=True,
        help="Proposed: what the customer owes now (late and due today), else "
        "the next installment.",
    )
    payment_date = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self)
    )
    line_ids = fields.One2many(
        "installment.payment.register.line",
        "wizard_id",
        compute="_compute_line_ids",
        string="Installments Settled",
    )
    amount_excess = fields.Monetary(
        string="Left as Customer Credit", compute="_compute_line_ids"
    )

    def _open_installments(self):
        self.ensure_one()
        return (
            self.env["installment.plan.line"]
            .search(
                [
                    ("partner_id", "=", self.partner_id.commercial_partner_id.id),
                    ("plan_state", "=", "active"),
                    ("state", "!=", "paid"),
                    ("company_id", "=", self.company_id.id),
                    ("currency_id", "=", self.currency_id.id),
                ]
            )
            .sorted(lambda line: (line.due_date, line.move_id.id, line.sequence))
        )

    @api.depends("partner_id", "company_id", "currency_id")
    def _compute_amount(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if not wizard.partner_id:
                wizard.amount = 0.0
                continue
            lines = wizard._open_installments()
            owed = lines.filtered(lambda line: line.due_date <= today)
            wizard.amount = wizard.currency_id.round(
                sum((owed or lines[:1]).mapped("amount_residual"))
            )

    def _allocation(self):
        """``[(installment, amount applied)]`` and what is left over."""
        self.ensure_one()
        lines = self._open_installments()
        parts = schedule.allocate_oldest_first(
            lines.mapped("amount_residual"), self.amount
        )
        allocation = [
            (line, self.currency_id.round(part))
            for line, part in zip(lines, parts, strict=True)
            if not self.currency_id.is_zero(part)
        ]
        used = sum(part for _line, part in allocation)
        return allocation, self.currency_id.round(self.amount - used)

    @api.depends("partner_id", "amount", "currency_id", "company_id")
    def _compute_line_ids(self):
        for wizard in self:
            if not wizard.partner_id or wizard.amount <= 0:
                wizard.line_ids = [fields.Command.clear()]
                wizard.amount_excess = 0.0
                continue
            allocation, excess = wizard._allocation()
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create(
                    {"installment_id": line.id, "amount_applied": part}
                )
                for line, part in allocation
            ]
            wizard.amount_excess = excess

    def action_confirm(self):
        """Create and post one customer payment that settles the customer's
        installments oldest due date first across invoices.

        The payment's journal entry carries one receivable line per invoice,
        of exactly the amount the allocation gives it, each reconciled with
        its invoice; what is left over stays on the payment's own receivable
        line as the customer's outstanding credit. (Reconciling a single line
        invoice by invoice would give each invoice all it can take, not its
        share, when installments of several invoices interleave.)
        """
        self.ensure_one()
        if self.currency_id.compare_amounts(self.amount, 0) <= 0:
            raise UserError(_("The payment amount must be positive."))
        allocation, excess = self._allocation()
        currency, company = self.currency_id, self.company_id
        per_invoice = {}
        for line, part in allocation:
            per_invoice[line.move_id] = per_invoice.get(line.move_id, 0.0) + part
        invoices = self.env["account.move"].concat(*per_invoice)
        # With no excess, the payment's own counterpart line settles the last
        # invoice; every other invoice gets its own receivable line.
        own_line_invoice = invoices[-1:] if currency.is_zero(excess) else invoices[:0]
        write_offs = {}
        for invoice in invoices - own_line_invoice:
            receivable = invoice.line_ids.filtered(
                lambda line: line.display_type == "payment_term"
            )[:1].account_id
            amount = currency.round(per_invoice[invoice])
            name = _("Installments of %s", invoice.name)
            write_offs[name] = (
                invoice,
                {
                    "name": name,
                    "account_id": receivable.id,
                    "partner_id": self.partner_id.commercial_partner_id.id,
                    "currency_id": currency.id,
                    "amount_currency": -amount,
                    "balance": -currency._convert(
                        amount, company.currency_id, company, self.payment_date
                    ),
                },
            )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.partner_id.commercial_partner_id.id,
                "amount": self.amount,
                "currency_id": currency.id,
                "date": self.payment_date,
                "journal_id": self.journal_id.id,
                "company_id": company.id,
                "memo": _("Installment payment"),
                "write_off_line_vals": [vals for _inv, vals in write_offs.values()],
            }
        )
        payment.action_post()
        for line in payment.move_id.line_ids:
            if line.account_id.account_type != "asset_receivable":
                continue
            if line.name in write_offs:
                invoice = write_offs[line.name][0]
            elif own_line_invoice:
                invoice = own_line_invoice
            else:
                continue  # the excess: the customer's outstanding credit
            invoice_lines = invoice.line_ids.filtered(
                lambda term: term.display_type == "payment_term" and not term.reconciled
            )
            (line | invoice_lines).reconcile()
        if invoices:
            body = Markup("%s<ul>%s</ul>") % (
                _("Installment payment %s applied to:", payment.name),
                Markup("").join(
                    Markup("<li>%s: %s</li>")
                    % (
                        line.move_id.name,
                        self.env._(
                            "installment due %(date)s, %(amount)s",
                            date=format_date(self.env, line.due_date),
                            amount=self.currency_id.format(part),
                        ),
                    )
                    for line, part in allocation
                ),
            )
            payment.message_post(body=body)
        return payment._get_records_action(context={})


class InstallmentPaymentRegisterLine(models.TransientModel):
    _name = "installment.payment.register.line"
    _description = "Register Installment Payment: Preview Line"

    wizard_id = fields.Many2one(
        "installment.payment.register", required=True, ondelete="cascade"
    )
    installment_id = fields.Many2one("installment.plan.line", required=True)
    move_id = fields.Many2one(related="installment_id.move_id")
    due_date = fields.Date(related="installment_id.due_date")
    currency_id = fields.Many2one(related="installment_id.currency_id")
    amount_residual = fields.Monetary(related="installment_id.amount_residual")
    amount_applied = fields.Monetary()
