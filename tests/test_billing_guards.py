"""Money rules of prepaid and postpaid customers that hold on every path
(issue 15, points 1-4 and 13): not only through the screens that usually
lead there, but over any ``create``/``write``/method call a user may make."""

import html

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import BillingCommon


@freeze_time("2026-03-15")
@tagged("post_install", "-at_install")
class TestBillingGuards(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="guard_clerk",
            groups="account.group_account_invoice,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.boss = new_test_user(
            cls.env,
            login="guard_boss",
            name="Grace Boss",
            groups="account.group_account_invoice,base.group_partner_manager,"
            "installment_credit.group_installment_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def _with_free_credit_line(self, invoice):
        """Add a zero-price line of the prepaid credit product."""
        invoice.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.prepaid_product.id,
                            "quantity": 1.0,
                            "price_unit": 0.0,
                        }
                    )
                ]
            }
        )
        self.assertIn(self.prepayment_account, invoice.line_ids.account_id)
        return invoice

    # ------------------------------------------------------------------
    # 1. A line on the prepayment account does not disable the check
    # ------------------------------------------------------------------
    def test_free_credit_line_does_not_skip_postpaid_block(self):
        self._invoice(1000.0, partner=self.postpaid)
        invoice = self._with_free_credit_line(
            self._invoice(250.0, partner=self.postpaid, post=False)
        )
        self.assertFalse(invoice._billing_is_topup())
        with self.assertRaises(UserError) as error:
            invoice.with_user(self.clerk).action_post()
        self.assertIn(self.currency.format(250.0), str(error.exception))
        self.assertEqual(invoice.state, "draft")

    def test_free_credit_line_does_not_skip_prepaid_check(self):
        # balance 0, limit 100
        invoice = self._with_free_credit_line(self._invoice(150.0, post=False))
        with self.assertRaises(UserError) as error:
            invoice.with_user(self.clerk).action_post()
        self.assertIn("prepaid", str(error.exception))
        self.assertEqual(invoice.state, "draft")
        self.assertBalanceMatchesLedger(0.0)

    def test_mixed_invoice_is_no_pending_topup(self):
        self._fund(300.0)
        invoice = self._with_free_credit_line(self._invoice(80.0, post=False))
        invoice.with_user(self.clerk).action_post()
        # settled from the balance like any invoice, never a pending top-up
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertNotEqual(
            self.customer.with_company(self.company).prepaid_topup_move_id, invoice
        )
        self.assertFalse(
            self.customer._prepaid_pending_topups(self.company)[self.customer.id]
        )
        self.assertBalanceMatchesLedger(220.0)

    def test_mixed_invoice_unpaid_credit_is_not_spendable(self):
        # 50 of credit bought with 40 of service: 90 owed, nothing paid yet
        self._fund(100.0)
        invoice = self._invoice(40.0, post=False)
        invoice.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.prepaid_product.id,
                            "quantity": 1.0,
                            "price_unit": 50.0,
                        }
                    )
                ]
            }
        )
        invoice.action_post()
        # the 50 bought are not spendable while unpaid: the 90 are settled
        # from the 100 paid, which pays the 50 bought too
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertBalanceMatchesLedger(60.0)
        spendable = self.customer._prepaid_spendable(self.company)[self.customer.id]
        self.assertAlmostEqual(spendable, 60.0)

    def test_real_topup_still_skips_the_check(self):
        topup = self._topup_invoice(5000.0)
        self.assertTrue(topup._billing_is_topup())
        self.assertEqual(
            self.customer.with_company(self.company).prepaid_topup_move_id, topup
        )

    # ------------------------------------------------------------------
    # 2. Only managers change what the check relies on
    # ------------------------------------------------------------------
    def test_clerk_cannot_change_limit_fields(self):
        partner = self.postpaid.with_user(self.clerk)
        for vals in (
            {"credit_limit": 0.0},
            {"credit_limit": 5000.0},
            {"use_partner_credit_limit": False},
            {"billing_mode": "prepaid"},
            {"auto_topup_enabled": True, "auto_topup_amount": 100.0},
            {"auto_topup_threshold": 50.0},
        ):
            with self.assertRaises(AccessError) as error:
                partner.write(vals)
            self.assertIn("Installments & Credits managers", str(error.exception))
        self.assertEqual(self.postpaid.credit_limit, 1000.0)
        # so the over-limit invoice is still refused
        self._invoice(1000.0, partner=self.postpaid)
        with self.assertRaises(UserError):
            self._invoice(10.0, partner=self.postpaid, post=False).with_user(
                self.clerk
            ).action_post()
        # an unchanged value and other fields stay writable
        partner.write({"credit_limit": 1000.0, "phone": "+32 2 555 00 00"})
        # managers may
        self.postpaid.with_user(self.boss).credit_limit = 2000.0
        self.assertEqual(self.postpaid.credit_limit, 2000.0)

    def test_clerk_cannot_change_company_policy(self):
        self.clerk.groups_id |= self.env.ref("base.group_system")
        company = self.company.with_user(self.clerk)
        for vals in (
            {"billing_limit_policy": "warn"},
            {"account_use_credit_limit": False},
            {"prepayment_account_id": False, "prepaid_product_id": False},
        ):
            with self.assertRaises(AccessError) as error:
                company.write(vals)
            self.assertIn("Installments & Credits managers", str(error.exception))
        self.assertEqual(self.company.billing_limit_policy, "block")
        company.write({"billing_limit_policy": "block", "phone": "+32 2 555 00 01"})

    def test_anybody_creates_customers_with_default_mode(self):
        Partner = self.env["res.partner"].with_user(self.clerk)
        created = Partner.create({"name": "Walk-in", "billing_mode": "postpaid"})
        self.assertEqual(created.billing_mode, "postpaid")
        with Form(Partner) as form:
            form.name = "Walk-in 2"
        with self.assertRaises(AccessError):
            Partner.create({"name": "Big spender", "credit_limit": 99999.0})
        with self.assertRaises(AccessError):
            Partner.create({"name": "Prepaid one", "billing_mode": "prepaid"})

    # ------------------------------------------------------------------
    # 3. An override always has a reason
    # ------------------------------------------------------------------
    def test_override_context_alone_posts_nothing(self):
        self._invoice(1000.0, partner=self.postpaid)
        invoice = self._invoice(250.0, partner=self.postpaid, post=False)
        with self.assertRaises(UserError):
            invoice.with_user(self.boss).with_context(
                installment_credit_override_limit=True
            )._post(soft=False)
        action = (
            invoice.with_user(self.boss)
            .with_context(installment_credit_override_limit=True)
            .action_post()
        )
        self.assertEqual(action["res_model"], "billing.limit.override")
        self.assertEqual(invoice.state, "draft")

    def test_override_method_requires_reason_and_logs(self):
        self._invoice(1000.0, partner=self.postpaid)
        invoice = self._invoice(250.0, partner=self.postpaid, post=False)
        with self.assertRaises(UserError) as error:
            invoice.with_user(self.boss).action_post_override_limit("  ")
        self.assertIn("reason", str(error.exception))
        with self.assertRaises(AccessError):
            invoice.with_user(self.clerk).action_post_override_limit("please")
        self.assertEqual(invoice.state, "draft")
        invoice.with_user(self.boss).action_post_override_limit("Paying Friday")
        self.assertEqual(invoice.state, "posted")
        note = invoice.message_ids.filtered(lambda m: "Paying Friday" in (m.body or ""))
        self.assertEqual(len(note), 1)
        body = html.unescape(str(note.body))
        for expected in (
            "Grace Boss",
            self.currency.format(1000.0),  # limit
            self.currency.format(1250.0),  # exposure
            self.currency.format(250.0),  # excess
        ):
            self.assertIn(expected, body)

    # ------------------------------------------------------------------
    # 4. Un-posting never takes a prepaid balance below minus the limit
    # ------------------------------------------------------------------
    def test_cancel_topup_payment_refused_below_limit(self):
        payment = self._direct_payment(200.0)
        self._invoice(250.0)  # balance -50, limit 100
        state = payment.state
        with self.assertRaises(UserError) as error:
            payment.action_cancel()
        self.assertIn("credit limit", str(error.exception))
        self.env.invalidate_all()
        self.assertEqual(payment.state, state)
        self.assertBalanceMatchesLedger(-50.0)
        with self.assertRaises(UserError):
            payment.move_id.button_draft()
        self.assertBalanceMatchesLedger(-50.0)

    def test_reversal_of_topup_payment_refused_below_limit(self):
        """Reversing the payment's entry (Odoo's "Reverse Entry", which posts
        the reversal) lowers the balance like cancelling it: the same rule."""
        payment = self._direct_payment(200.0)
        self._invoice(250.0)  # balance -50, limit 100
        with self.assertRaises(UserError) as error:
            payment.move_id._reverse_moves(cancel=True)
        self.assertIn("credit limit", str(error.exception))
        self.env.invalidate_all()
        self.assertBalanceMatchesLedger(-50.0)
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=payment.move_id.ids)
            .create({"journal_id": payment.move_id.journal_id.id})
        )
        with self.assertRaises(UserError) as error:
            wizard.reverse_moves()
        self.assertIn("credit limit", str(error.exception))
        self.env.invalidate_all()
        self.assertBalanceMatchesLedger(-50.0)

    def test_manual_entry_refused_below_limit(self):
        """A journal entry typed by hand on a prepaid customer's receivable
        spends the balance too: refused below minus the limit, allowed above."""
        self._direct_payment(200.0)
        self._invoice(250.0)  # balance -50, limit 100
        receivable = self.customer.property_account_receivable_id
        income = self.env["account.account"].search(
            [("account_type", "=", "income"), ("company_ids", "in", self.company.ids)],
            limit=1,
        )

        def entry(amount):
            return self.env["account.move"].create(
                {
                    "move_type": "entry",
                    "date": "2026-03-15",
                    "line_ids": [
                        Command.create(
                            {
                                "account_id": receivable.id,
                                "partner_id": self.customer.id,
                                "debit": amount,
                            }
                        ),
                        Command.create({"account_id": income.id, "credit": amount}),
                    ],
                }
            )

        too_much = entry(60.0)
        with self.assertRaises(UserError) as error:
            too_much.action_post()
        self.assertIn("credit limit", str(error.exception))
        self.assertEqual(too_much.state, "draft")
        self.assertBalanceMatchesLedger(-50.0)
        within = entry(40.0)
        within.action_post()
        self.assertBalanceMatchesLedger(-90.0)

    def test_cancel_within_limit_and_reset_settlement(self):
        topup = self._fund(300.0)
        invoice = self._invoice(250.0)
        settlement = invoice.line_ids.matched_credit_ids.credit_move_id.move_id
        self.assertEqual(settlement.move_type, "entry")
        # resetting the settlement leaves the balance, the invoice reopens
        settlement.button_draft()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertBalanceMatchesLedger(50.0)
        # unpaying the top-up: balance 50 - 300 = -250, below -100
        with self.assertRaises(UserError):
            topup.line_ids.matched_credit_ids.credit_move_id.move_id.button_draft()
        invoice.button_draft()
        payment_move = topup.line_ids.matched_credit_ids.credit_move_id.move_id
        payment_move.button_draft()  # balance 0, within the limit
        self.assertBalanceMatchesLedger(0.0)

    # ------------------------------------------------------------------
    # 13. The top-up wizard submitted twice creates one document
    # ------------------------------------------------------------------
    def test_topup_wizard_twice_creates_one_document(self):
        for method in ("invoice", "payment"):
            wizard = self.env["prepaid.balance.topup"].create(
                {"partner_id": self.customer.id, "method": method, "amount": 75.0}
            )
            first = wizard.action_confirm()
            second = wizard.action_confirm()
            self.assertEqual(first, second)
            model = self.env[first["res_model"]]
            self.assertEqual(
                model.search_count([("partner_id", "=", self.customer.id)]), 1
            )
