"""Two transactions racing to create an auto top-up for the same customer.

Commit-based: the fixture is committed in the main company so that both
cursors see it, and removed again in the cleanup.
"""

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import TwoCursorsMixin


@tagged("post_install", "-at_install")
class TestBillingConcurrency(TwoCursorsMixin, TransactionCase):
    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            self.assertTrue(
                company.chart_template, "the test database has a chart of accounts"
            )
            self.saved_config = {
                "prepayment_account_id": company.prepayment_account_id.id,
                "prepaid_product_id": company.prepaid_product_id.id,
            }
            account = env["account.account"].create(
                {
                    "name": "Race prepayments",
                    "code": "209777",
                    "account_type": "liability_current",
                    "company_ids": [Command.set(company.ids)],
                }
            )
            product = env["product.product"].create(
                {
                    "name": "Race prepaid credit",
                    "type": "service",
                    "taxes_id": [Command.clear()],
                    "property_account_income_id": account.id,
                }
            )
            company.write(
                {"prepayment_account_id": account.id, "prepaid_product_id": product.id}
            )
            partner = (
                env["res.partner"]
                .with_company(company)
                .create(
                    {
                        "name": "Race customer",
                        "billing_mode": "prepaid",
                        "auto_topup_enabled": True,
                        "auto_topup_threshold": 100.0,
                        "auto_topup_amount": 500.0,
                    }
                )
            )
            sale = env["account.journal"].search(
                [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1
            )
            journals = sale.copy({"name": "Race sales A", "code": "RCA"}) | sale.copy(
                {"name": "Race sales B", "code": "RCB"}
            )
            self.journal_ids = journals.ids
            self.income_account_id = sale.default_account_id.id
            self.company_id = company.id
            self.partner_id = partner.id
            self.account_id = account.id
            self.product_id = product.id
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            moves = env["account.move"].search([("partner_id", "=", self.partner_id)])
            env["mail.message"].search(
                [
                    "|",
                    "&",
                    ("model", "=", "account.move"),
                    ("res_id", "in", moves.ids),
                    "&",
                    ("model", "=", "res.partner"),
                    ("res_id", "=", self.partner_id),
                ]
            ).unlink()
            # documents before payments: un-posting a payment first could
            # take the prepaid balance below minus the credit limit
            moves.filtered(
                lambda m: m.state == "posted" and not m.origin_payment_id
            ).button_draft()
            payments = env["account.payment"].search(
                [("partner_id", "=", self.partner_id)]
            )
            payments.filtered(lambda p: p.state != "draft").action_draft()
            payments.unlink()
            moves = moves.exists()
            moves.filtered(lambda m: m.state == "posted").button_draft()
            moves.with_context(force_delete=True).unlink()
            env["account.journal"].browse(self.journal_ids).unlink()
            env.ref("base.main_company").write(self.saved_config)
            env["res.partner"].browse(self.partner_id).unlink()
            env["product.product"].browse(self.product_id).product_tmpl_id.unlink()
            env["account.account"].browse(self.account_id).unlink()

    def _auto_topup(self, cr):
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        partner = env["res.partner"].browse(self.partner_id)
        return partner._prepaid_auto_topup(env.company).ids

    def _count_topups(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return env["account.move"].search_count(
                [
                    ("partner_id", "=", self.partner_id),
                    ("move_type", "=", "out_invoice"),
                ]
            )

    @freeze_time("2026-03-15")
    # The transaction that waits on the lock fails with a serialization
    # error, as it should: Odoo logs that failing query at ERROR level.
    @mute_logger("odoo.sql_db")
    def test_two_transactions_create_one_topup(self):
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            self.assertEqual(len(self._auto_topup(cr1)), 1)
            outcome = self._second_waits(
                cr1,
                cr2,
                "ids",
                lambda: self._auto_topup(cr2),
                "the second transaction waits for the partner lock",
            )
            self.assertIsInstance(
                outcome.get("error"),
                psycopg2.errors.SerializationFailure,
                "the second transaction must not act on its stale snapshot",
            )
            cr2.rollback()
            # Odoo retries a serialization failure: the retry sees the first
            # top-up invoice, unpaid, and creates none.
            self.assertEqual(self._auto_topup(cr2), [])
            cr2.commit()
            self.assertEqual(self._count_topups(), 1)
        finally:
            cr1.close()
            cr2.close()

    def _post_invoice(self, cr, journal_id, amount):
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_id,
                "journal_id": journal_id,
                "invoice_date": "2026-03-02",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Service",
                            "price_unit": amount,
                            "tax_ids": [],
                            "account_id": self.income_account_id,
                        }
                    )
                ],
            }
        )
        invoice._post(soft=False)
        return invoice.id

    @freeze_time("2026-03-15")
    # The transaction that waits on the lock fails with a serialization
    # error, as it should: Odoo logs that failing query at ERROR level.
    @mute_logger("odoo.sql_db")
    def test_two_postings_do_not_spend_the_same_balance(self):
        with self.registry.cursor() as cr:
            env = api.Environment(
                cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
            )
            partner = env["res.partner"].browse(self.partner_id)
            partner.write({"auto_topup_enabled": False, "credit_limit": 100.0})
            env["prepaid.balance.topup"].create(
                {"partner_id": partner.id, "method": "payment", "amount": 100.0}
            ).action_confirm()
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            first_id = self._post_invoice(cr1, self.journal_ids[0], 80.0)
            outcome = self._second_waits(
                cr1,
                cr2,
                "id",
                lambda: self._post_invoice(cr2, self.journal_ids[1], 80.0),
                "the second posting waits",
            )
            self.assertIsInstance(
                outcome.get("error"), psycopg2.errors.SerializationFailure
            )
            cr2.rollback()
            second_id = self._post_invoice(cr2, self.journal_ids[1], 80.0)
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            env = api.Environment(
                cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
            )
            first, second_invoice = env["account.move"].browse([first_id, second_id])
            self.assertEqual(first.payment_state, "paid")
            self.assertAlmostEqual(second_invoice.amount_residual, 60.0)
            partner = env["res.partner"].browse(self.partner_id)
            amounts = partner._prepaid_get_amounts(env.company)[partner.id]
            self.assertAlmostEqual(amounts["held"], 0.0)
            self.assertAlmostEqual(amounts["balance"], -60.0)

    def _fund_by_payment(self, amount, credit_limit):
        """Committed: no auto top-up, the credit limit, a payment received."""
        with self.registry.cursor() as cr:
            env = api.Environment(
                cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
            )
            partner = env["res.partner"].browse(self.partner_id)
            partner.write({"auto_topup_enabled": False, "credit_limit": credit_limit})
            action = (
                env["prepaid.balance.topup"]
                .create(
                    {"partner_id": partner.id, "method": "payment", "amount": amount}
                )
                .action_confirm()
            )
            return action["res_id"]

    def _cancel_payment(self, cr, payment_id):
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        env["account.payment"].browse(payment_id).action_cancel()

    @freeze_time("2026-03-15")
    @mute_logger("odoo.sql_db")  # the expected serialization failure
    def test_cancelling_a_payment_waits_for_a_posting(self):
        """Cancelling a prepaid payment takes the partner lock, so it cannot
        remove money a concurrent posting has just spent."""
        payment_id = self._fund_by_payment(100.0, credit_limit=0.0)
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            # settled from the 100 received: balance 20
            self._post_invoice(cr1, self.journal_ids[0], 80.0)
            outcome = self._second_waits(
                cr1,
                cr2,
                "done",
                lambda: self._cancel_payment(cr2, payment_id) or True,
                "the cancellation waits for the partner lock",
            )
            self.assertIsInstance(
                outcome.get("error"), psycopg2.errors.SerializationFailure
            )
            cr2.rollback()
            # the retry sees the posting: 20 - 100 would be below -0
            with self.assertRaises(UserError) as error:
                self._cancel_payment(cr2, payment_id)
            self.assertIn("below minus their credit limit", str(error.exception))
            cr2.rollback()
        finally:
            cr1.close()
            cr2.close()
        with self.registry.cursor() as cr:
            env = api.Environment(
                cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
            )
            self.assertNotEqual(
                env["account.payment"].browse(payment_id).state, "canceled"
            )
            partner = env["res.partner"].browse(self.partner_id)
            amounts = partner._prepaid_get_amounts(env.company)[partner.id]
            self.assertAlmostEqual(amounts["balance"], 20.0)

    def _confirm_topup(self, cr, wizard_id):
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
        )
        return env["prepaid.balance.topup"].browse(wizard_id).action_confirm()

    @freeze_time("2026-03-15")
    @mute_logger("odoo.sql_db")  # the expected serialization failure
    def test_topup_wizard_submitted_twice_at_once(self):
        with self.registry.cursor() as cr:
            env = api.Environment(
                cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
            )
            env["res.partner"].browse(self.partner_id).auto_topup_enabled = False
            wizard_id = (
                env["prepaid.balance.topup"]
                .create(
                    {"partner_id": self.partner_id, "method": "invoice", "amount": 50}
                )
                .id
            )
        cr1 = self.registry.cursor()
        cr2 = self.registry.cursor()
        try:
            first = self._confirm_topup(cr1, wizard_id)
            outcome = self._second_waits(
                cr1,
                cr2,
                "action",
                lambda: self._confirm_topup(cr2, wizard_id),
                "the second submission waits",
            )
            self.assertIsInstance(
                outcome.get("error"), psycopg2.errors.SerializationFailure
            )
            cr2.rollback()
            # Odoo retries: the retry opens the invoice the first one created
            self.assertEqual(self._confirm_topup(cr2, wizard_id), first)
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
        self.assertEqual(self._count_topups(), 1)
