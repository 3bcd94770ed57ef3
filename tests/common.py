"""The test suite's shared set-up: one base class, one block per capability.

``InstallmentCreditCommon`` holds what every capability's tests share (a company
with Odoo's test chart of accounts, invoice and payment helpers); the capability
classes below only add their own records and defaults.
"""

import threading

from odoo import Command, fields
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

# Billing tests invoice on this date.
INVOICE_DATE = "2026-03-02"


class InstallmentCreditCommon(AccountTestInvoicingCommon):
    """Company, currency and the document helpers shared by every capability."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id

    @classmethod
    def _make_invoice(
        cls,
        partner,
        invoice_date,
        line_vals,
        move_type="out_invoice",
        currency=None,
        company=None,
        **vals,
    ):
        """A draft customer document of one line (``line_vals``)."""
        company = company or cls.company
        return (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": invoice_date,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [Command.create(line_vals)],
                    **vals,
                }
            )
        )

    @classmethod
    def _register_payment(cls, invoices, date, amount=None, **vals):
        """Pay ``invoices`` with Odoo's Register Payment wizard."""
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({"payment_date": date, **vals})
        )
        if amount is not None:
            wizard.amount = amount
        return wizard._create_payments()


# ----------------------------------------------------------------------
# Installment agreements and collections
# ----------------------------------------------------------------------
class InstallmentCommon(InstallmentCreditCommon):
    """Invoices, payments and credit notes for the installment tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.installment_working_day_policy = "keep"

    @classmethod
    def _invoice(
        cls, amount, date="2026-01-10", partner=None, currency=None, post=True, **vals
    ):
        move = cls._make_invoice(
            partner or cls.partner_a,
            date,
            {"name": "service", "price_unit": amount, "tax_ids": []},
            currency=currency or cls.currency,
            date=date,
            **vals,
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, invoices, amount, date="2026-01-15"):
        return cls._register_payment(
            invoices, date, amount=amount, payment_difference_handling="open"
        )

    @classmethod
    def _credit_note(cls, invoice, amount, date="2026-01-20"):
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": invoice.partner_id.id,
                "invoice_date": date,
                "date": date,
                "currency_id": invoice.currency_id.id,
                "reversed_entry_id": invoice.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "refund", "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        refund.action_post()
        lines = (invoice | refund).line_ids.filtered(
            lambda line: line.display_type == "payment_term" and not line.reconciled
        )
        lines.reconcile()
        return refund

    def assertLines(self, plan, expected):
        """``expected``: list of (due_date, amount[, state])."""
        lines = plan.line_ids.sorted(lambda line: (line.sequence, line.due_date))
        got = []
        for line, exp in zip(lines, expected, strict=False):
            row = (fields.Date.to_string(line.due_date), line.amount)
            if len(exp) > 2:
                row += (line.state,)
            got.append(row)
        self.assertEqual(got, [tuple(e) for e in expected])


# ----------------------------------------------------------------------
# Prepaid and postpaid customers
# ----------------------------------------------------------------------
class BillingCommon(InstallmentCreditCommon):
    """A company with a prepayment account and a prepaid credit product, a
    prepaid and a postpaid customer, credit limits blocking."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
        move = self._make_invoice(
            partner or self.customer,
            INVOICE_DATE,
            {
                "product_id": self.service.id,
                "quantity": 1.0,
                "price_unit": amount,
                "tax_ids": [Command.clear()],
            },
            move_type=move_type,
            currency=currency,
            company=company,
        )
        if post:
            move._post(soft=False)
        return move

    def _pay(self, invoice, amount=None):
        return self._register_payment(invoice, INVOICE_DATE, amount=amount)

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


# ----------------------------------------------------------------------
# Credit packages
# ----------------------------------------------------------------------
class CreditInvoicingCommon(InstallmentCreditCommon):
    """Company with a chart of accounts, two credit types and three packages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.credit_availability = "posted"
        cls.sms = cls.env["credit.type"].create(
            {"name": "Test SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        cls.minute = cls.env["credit.type"].create(
            {"name": "Test minutes", "unit_name": "minute", "rounding": 0.01}
        )
        cls.pkg_month = cls.env["credit.package"].create(
            {
                "name": "SMS 100 monthly",
                "package_kind": "subscription",
                "validity_number": 1,
                "validity_unit": "month",
                "list_price": 50.0,
                "line_ids": [
                    Command.create({"credit_type_id": cls.sms.id, "quantity": 100}),
                    Command.create({"credit_type_id": cls.minute.id, "quantity": 30}),
                ],
            }
        )
        cls.pkg_recharge = cls.env["credit.package"].create(
            {
                "name": "SMS recharge 40",
                "package_kind": "recharge",
                "validity_number": 1,
                "validity_unit": "month",
                "list_price": 20.0,
                "line_ids": [
                    Command.create({"credit_type_id": cls.sms.id, "quantity": 40})
                ],
            }
        )
        cls.customer = cls.partner_a

    @classmethod
    def _sell(cls, package, quantity=1.0, date="2026-01-10", partner=None, post=True):
        invoice = cls._make_invoice(
            partner or cls.customer,
            fields.Date.to_date(date),
            {
                "product_id": package.product_id.id,
                "quantity": quantity,
                "price_unit": package.list_price,
                "tax_ids": [Command.clear()],
            },
            currency=cls.env.company.currency_id,
        )
        if post:
            invoice.action_post()
        return invoice

    def _grants(self, ctype=None, partner=None):
        domain = [("partner_id", "=", (partner or self.customer).id)]
        if ctype:
            domain.append(("credit_type_id", "=", ctype.id))
        return self.env["credit.grant"].search(domain, order="date_start, id")


# ----------------------------------------------------------------------
# Concurrency: two real database cursors
# ----------------------------------------------------------------------
class TwoCursorsMixin:
    """For tests that race two transactions on two real cursors."""

    def _second_waits(self, cr1, cr2, key, second, message):
        """``cr1``'s transaction holds its locks (not committed yet): run
        ``second()`` (which works on ``cr2``) in a thread, check that it waits
        for those locks, commit ``cr1`` and wait for ``second`` to finish.

        :return: ``{key: what second returned}``, or ``{"error": exception}``
            when it raised (e.g. the serialization failure Odoo retries)
        """
        outcome = {}

        def run():
            try:
                cr2.execute("SET LOCAL lock_timeout = '30s'")
                outcome[key] = second()
            except Exception as error:  # noqa: BLE001 - returned to the test
                outcome["error"] = error

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(2.0)
        self.assertTrue(thread.is_alive(), message)
        cr1.commit()
        thread.join(60.0)
        self.assertFalse(thread.is_alive())
        return outcome

    @staticmethod
    def _delete_credit_ledger(cr, partner_ids):
        """Remove the committed credit ledger of these test customers: the
        ledger refuses deletion through the ORM, on purpose."""
        partner_ids = tuple(partner_ids)
        cr.execute(
            SQL("DELETE FROM credit_consumption WHERE partner_id IN %s", partner_ids)
        )
        cr.execute(SQL("DELETE FROM credit_grant WHERE partner_id IN %s", partner_ids))
