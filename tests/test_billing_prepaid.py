from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import BillingCommon


@freeze_time("2026-03-15")
@tagged("post_install", "-at_install")
class TestBillingPrepaid(BillingCommon):
    def _settlements(self, partner=None):
        return self.env["account.move"].search(
            [
                ("move_type", "=", "entry"),
                ("partner_id", "=", (partner or self.customer).id),
                ("line_ids.account_id", "=", self.prepayment_account.id),
            ]
        )

    def test_topup_invoice_unpaid_gives_no_credit_paid_does(self):
        topup = self._topup_invoice(500.0)
        self.assertEqual(topup.state, "posted")
        self.assertEqual(
            topup.invoice_line_ids.account_id,
            self.prepayment_account,
            "top-up invoices credit the prepayment account",
        )
        self.assertBalanceMatchesLedger(0.0)
        # unpaid credit cannot be spent: 150 > 0 + limit 100
        with self.assertRaises(UserError):
            self._invoice(150.0)
        self._pay(topup, amount=200.0)
        self.assertBalanceMatchesLedger(200.0)
        self._pay(topup)
        self.assertBalanceMatchesLedger(500.0)
        self.assertEqual(
            self.customer.prepaid_topup_move_id.with_company(self.company), topup
        )

    def test_full_settlement(self):
        self._fund(500.0)
        invoice = self._invoice(200.0)
        lines_before = invoice.line_ids.read(["account_id", "balance"])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        settlement = self._settlements()
        self.assertEqual(len(settlement), 1)
        self.assertEqual(settlement.state, "posted")
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertTrue(receivable.reconciled)
        self.assertEqual(
            receivable.matched_credit_ids.credit_move_id.move_id, settlement
        )
        self.assertEqual(invoice.line_ids.read(["account_id", "balance"]), lines_before)
        self.assertBalanceMatchesLedger(300.0)

    def test_partial_down_to_minus_limit_then_refused(self):
        self._fund(300.0)
        invoice = self._invoice(350.0)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 50.0)
        self.assertBalanceMatchesLedger(-50.0)
        # exactly down to -limit (100) is allowed
        second = self._invoice(50.0)
        self.assertEqual(second.state, "posted")
        self.assertEqual(second.payment_state, "not_paid")
        self.assertBalanceMatchesLedger(-100.0)
        third = self._invoice(0.01, post=False)
        with self.assertRaises(UserError) as error:
            third._post(soft=False)
        self.assertIn("prepaid", str(error.exception))
        self.assertIn(self.currency.format(0.01), str(error.exception))
        self.assertEqual(third.state, "draft")
        self.assertBalanceMatchesLedger(-100.0)
        self.assertTrue(self.customer.billing_over_limit is False)

    def test_paid_topup_settles_open_invoices_on_apply(self):
        self._fund(100.0)
        invoice = self._invoice(180.0)
        self.assertAlmostEqual(invoice.amount_residual, 80.0)
        self._fund(100.0)
        self.assertBalanceMatchesLedger(20.0)
        self.customer.action_prepaid_apply_balance()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertBalanceMatchesLedger(20.0)

    def test_foreign_currency_invoice_partial_settlement(self):
        eur = self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        self._fund(100.0)
        invoice = self._invoice(300.0, currency=eur)
        self.assertAlmostEqual(invoice.amount_total_signed, 150.0)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertAlmostEqual(invoice.amount_residual, 100.0)
        settlement = self._settlements()
        self.assertEqual(settlement.line_ids.currency_id, eur)
        self.assertAlmostEqual(
            sum(settlement.line_ids.filtered("debit").mapped("debit")), 100.0
        )
        self.assertBalanceMatchesLedger(-50.0)

    def test_history_lists_the_items_behind_the_balance(self):
        self._fund(300.0)
        self._invoice(120.0)
        self._direct_payment(10.0)
        action = self.customer.action_prepaid_history()
        lines = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(
            set(lines.move_id.mapped("move_type")), {"out_invoice", "entry"}
        )
        self.assertAlmostEqual(-sum(lines.mapped("balance")), 190.0)
        self.assertBalanceMatchesLedger(190.0)

    def test_direct_payment_counts_and_is_applied(self):
        self._direct_payment(120.0)
        self.assertBalanceMatchesLedger(120.0)
        invoice = self._invoice(100.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(self._settlements(), "the payment was applied, not held")
        self.assertBalanceMatchesLedger(20.0)

    def test_topup_wizard_payment_and_invoice(self):
        wizard = self.env["prepaid.balance.topup"].create(
            {"partner_id": self.customer.id, "method": "payment", "amount": 75.0}
        )
        action = wizard.action_confirm()
        payment = self.env["account.payment"].browse(action["res_id"])
        self.assertEqual(payment.state, "in_process")
        self.assertBalanceMatchesLedger(75.0)
        wizard = self.env["prepaid.balance.topup"].create(
            {"partner_id": self.customer.id, "method": "invoice", "amount": 40.0}
        )
        action = wizard.action_confirm()
        self.assertEqual(
            self.env["account.move"].browse(action["res_id"]).state, "posted"
        )
        self.assertBalanceMatchesLedger(75.0)
        with self.assertRaises(UserError):
            self.env["prepaid.balance.topup"].create(
                {"partner_id": self.customer.id, "amount": -1.0}
            ).action_confirm()
        with self.assertRaises(UserError):
            self.env["prepaid.balance.topup"].create(
                {"partner_id": self.postpaid.id, "amount": 10.0}
            ).action_confirm()

    def test_credit_note_adds_back(self):
        self._fund(500.0)
        invoice = self._invoice(200.0)
        self.assertBalanceMatchesLedger(300.0)
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "returned"})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note._post(soft=False)
        self.assertBalanceMatchesLedger(500.0)
        # the credit is used by the next invoice before the prepaid money
        nxt = self._invoice(150.0)
        # Odoo calls an invoice paid by a credit note "reversed"
        self.assertIn(nxt.payment_state, ("paid", "in_payment", "reversed"))
        self.assertFalse(nxt.amount_residual)
        self.assertEqual(credit_note.payment_state, "partial")
        self.assertBalanceMatchesLedger(350.0)

    def test_withdrawal(self):
        self._fund(300.0)
        self._direct_payment(50.0)
        self.assertBalanceMatchesLedger(350.0)
        Withdraw = self.env["prepaid.balance.withdraw"]
        wizard = Withdraw.create(
            {"partner_id": self.customer.id, "amount": 350.01, "reason": "leaving"}
        )
        self.assertAlmostEqual(wizard.balance, 350.0)
        with self.assertRaises(UserError) as error:
            wizard.action_confirm()
        self.assertIn("at most", str(error.exception))
        self.assertBalanceMatchesLedger(350.0)
        wizard = Withdraw.create(
            {"partner_id": self.customer.id, "amount": 0.0, "reason": "leaving"}
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        wizard = Withdraw.create(
            {"partner_id": self.customer.id, "amount": 320.0, "reason": "leaving us"}
        )
        action = wizard.action_confirm()
        payments = self.env["account.payment"].search(action["domain"])
        self.assertEqual(len(payments), 2, "300 held + 20 of the unapplied payment")
        self.assertEqual(set(payments.mapped("payment_type")), {"outbound"})
        self.assertAlmostEqual(sum(payments.mapped("amount")), 320.0)
        self.assertBalanceMatchesLedger(30.0)
        self.assertTrue(
            self.customer.message_ids.filtered(lambda m: "leaving us" in (m.body or ""))
        )

    def test_withdrawal_not_above_balance_with_unpaid_topup(self):
        self._topup_invoice(500.0)
        wizard = self.env["prepaid.balance.withdraw"].create(
            {"partner_id": self.customer.id, "amount": 1.0, "reason": "test"}
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()

    def test_mode_switch_keeps_books(self):
        self._fund(300.0)
        self.assertBalanceMatchesLedger(300.0)
        with (
            self.assertLogs("odoo.tests.form.onchange", level="WARNING") as logs,
            Form(self.customer) as partner_form,
        ):
            partner_form.billing_mode = "postpaid"
        self.assertIn("outstanding credit", logs.output[0])
        self.assertEqual(self.customer.billing_mode, "postpaid")
        self.assertBalanceMatchesLedger(300.0)
        self.env.invalidate_all()
        self.assertAlmostEqual(self.customer.credit, -300.0)
        held = self.customer._prepaid_get_amounts(self.company)[self.customer.id]
        self.assertAlmostEqual(held["held"], 0.0)
        # postpaid now: a new invoice is not settled automatically
        invoice = self._invoice(100.0, partner=self.customer)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertBalanceMatchesLedger(200.0)

    def test_bad_input(self):
        with self.assertRaises(ValidationError):
            self.customer.auto_topup_threshold = -1.0
        with self.assertRaises(ValidationError):
            self.customer.write({"auto_topup_enabled": True, "auto_topup_amount": 0.0})
        self.company.prepaid_product_id = False
        with self.assertRaises(ValidationError) as error:
            self.customer.write({"auto_topup_enabled": True, "auto_topup_amount": 50.0})
        self.assertIn("prepaid credit product", str(error.exception))
        self.assertFalse(self.customer.auto_topup_enabled)
        with self.assertRaises(ValidationError):
            self.company.prepaid_product_id = self.service

    def test_switch_partner_of_other_company_refused(self):
        other = self.setup_other_company()["company"]
        foreign = self.env["res.partner"].create(
            {"name": "Foreign customer", "company_id": other.id}
        )
        with self.assertRaises(UserError) as error:
            foreign.billing_mode = "prepaid"
        self.assertIn(other.name, str(error.exception))
        self.assertEqual(foreign.with_company(other).billing_mode, "postpaid")

    def test_multi_company_balances_are_separate(self):
        other = self.setup_other_company()["company"]
        self._setup_prepaid(other)
        self._fund(200.0)
        customer_other = self.customer.with_company(other)
        self.assertEqual(customer_other.billing_mode, "postpaid")
        invoice = self._invoice(80.0, company=other)
        self.assertEqual(invoice.company_id, other)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertBalanceMatchesLedger(200.0)
        self.assertBalanceMatchesLedger(-80.0, company=other)
        customer_other.billing_mode = "prepaid"
        self.assertEqual(
            self.customer.with_company(self.company).billing_mode, "prepaid"
        )

    def test_user_of_other_company_sees_only_their_books(self):
        other = self.setup_other_company()["company"]
        self._fund(200.0)
        user = new_test_user(
            self.env,
            login="billing_other_company",
            groups="account.group_account_invoice",
            company_id=other.id,
            company_ids=[other.id],
        )
        customer = self.customer.with_user(user).with_company(other)
        self.assertEqual(customer.prepaid_balance, 0.0)
        self.assertEqual(customer.billing_mode, "postpaid")
        with self.assertRaises(UserError):
            customer.with_company(self.company).prepaid_balance  # noqa: B018
        with self.assertRaises(UserError):
            self.env["prepaid.balance.withdraw"].with_user(user).create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "amount": 10.0,
                    "reason": "not mine",
                }
            ).action_confirm()
        self.assertBalanceMatchesLedger(200.0)

    def test_user_without_accounting_rights_cannot_read_balance(self):
        user = new_test_user(self.env, login="billing_sales", groups="base.group_user")
        with self.assertRaises(UserError):
            self.customer.with_user(user).read(["prepaid_balance"])
