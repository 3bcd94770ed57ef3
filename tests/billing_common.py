"""Shared set-up of the prepaid/postpaid customer tests."""

from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

INVOICE_DATE = "2026-03-02"


class BillingCommon(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls.prepayment_account, cls.prepaid_product = cls._setup_prepaid(cls.company)
        cls.company.write(
            {
                "account_use_credit_limit": True,
                "billing_limit_policy": "block",
            }
        )
        cls.service = cls.env["product.product"].create(
            {
                "name": "Consulting hour",
                "type": "service",
                "taxes_id": [Command.clear()],
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Prepaid Ltd", "billing_mode": "prepaid", "credit_limit": 100.0}
        )
        cls.postpaid = cls.env["res.partner"].create(
            {"name": "Postpaid Ltd", "credit_limit": 1000.0}
        )

    @classmethod
    def _setup_prepaid(cls, company):
        account = cls.env["account.account"].create(
            {
                "name": "Customer Prepayments",
                "code": "209900",
                "account_type": "liability_current",
                "company_ids": [Command.set(company.ids)],
            }
        )
        product = (
            cls.env["product.product"]
            .with_company(company)
            .create(
                {
                    "name": "Prepaid credit",
                    "type": "service",
                    "taxes_id": [Command.clear()],
                    "property_account_income_id": account.id,
                }
            )
        )
        company.write(
            {"prepayment_account_id": account.id, "prepaid_product_id": product.id}
        )
        return account, product

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _invoice(
        self,
        amount,
        partner=None,
        move_type="out_invoice",
        post=True,
        company=None,
        currency=None,
    ):
        company = company or self.company
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": (partner or self.customer).id,
                    "invoice_date": INVOICE_DATE,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": self.service.id,
                                "quantity": 1.0,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move._post(soft=False)
        return move

    def _pay(self, invoice, amount=None):
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"payment_date": INVOICE_DATE})
        )
        if amount is not None:
            wizard.amount = amount
        return wizard._create_payments()

    def _direct_payment(self, amount, partner=None):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": (partner or self.customer).id,
                "amount": amount,
                "date": INVOICE_DATE,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment

    def _topup_invoice(self, amount, partner=None):
        partner = partner or self.customer
        return partner._prepaid_create_topup_invoices(
            self.company, {partner.id: amount}
        )

    def _fund(self, amount, partner=None):
        """A paid top-up invoice of ``amount``."""
        invoice = self._topup_invoice(amount, partner)
        self._pay(invoice)
        return invoice

    def _balance(self, partner=None, company=None):
        partner = (partner or self.customer).with_company(company or self.company)
        partner.invalidate_recordset(["prepaid_balance"])
        return partner.prepaid_balance

    def assertBalanceMatchesLedger(self, expected, partner=None, company=None):
        """The computed balance equals ``expected`` and both independent ledger
        readings: minus the partner-ledger balance over the prepayment and
        receivable accounts, and prepayment-account credit balance minus
        Odoo's own Total Receivable (open residuals)."""
        partner = (partner or self.customer).with_company(company or self.company)
        company = company or self.company
        self.env.invalidate_all()
        balance = partner.prepaid_balance
        self.assertAlmostEqual(balance, expected, places=2)
        lines = self.env["account.move.line"].search(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("partner_id", "=", partner.id),
                "|",
                ("account_id", "=", company.prepayment_account_id.id),
                ("account_id.account_type", "=", "asset_receivable"),
            ]
        )
        self.assertAlmostEqual(-sum(lines.mapped("balance")), balance, places=2)
        held = -sum(
            lines.filtered(
                lambda line: line.account_id == company.prepayment_account_id
            ).mapped("balance")
        )
        self.assertAlmostEqual(held - partner.credit, balance, places=2)
