"""Credit units follow the money on every accounting flow (issue 15, points 7-8).

Credit notes typed by hand, payments removed and matched again, partial
reversals between payments; consumption dates and the status on a date.
"""

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CreditInvoicingCommon

D = fields.Date.to_date


@tagged("post_install", "-at_install")
class TestCreditGuards(CreditInvoicingCommon):
    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _active(self, ctype):
        """Units the customer can still use (active grants), of one type."""
        return sum(
            self._grants(ctype)
            .filtered(lambda g: g.state == "active")
            .mapped("quantity_remaining")
        )

    def _hand_refund(self, package, quantity, date="2026-01-20", post=True):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": D(date),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": package.product_id.id,
                            "quantity": quantity,
                            "price_unit": package.list_price,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if post:
            refund.action_post()
        return refund

    def _pay(self, invoice, amount=None, date="2026-01-12"):
        vals = {"payment_date": D(date)}
        if amount is not None:
            vals["amount"] = amount
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(vals)
            ._create_payments()
        )

    def _receivable(self, moves):
        return moves.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def _unreconcile(self, invoice):
        self._receivable(invoice).remove_move_reconcile()
        self.assertNotIn(invoice.payment_state, ("paid", "in_payment"))

    def _reconcile(self, invoice, payment):
        self._receivable(invoice | payment.move_id).filtered(
            lambda line: not line.reconciled
        ).reconcile()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def _grant(self, quantity, start, expiry):
        return self.env["credit.grant"].create(
            {
                "partner_id": self.customer.id,
                "credit_type_id": self.sms.id,
                "company_id": self.company.id,
                "quantity": quantity,
                "date_start": start,
                "date_expiry": expiry,
            }
        )

    # ------------------------------------------------------------------
    # 7. A credit note typed by hand is a credit note
    # ------------------------------------------------------------------
    @freeze_time("2026-01-20")
    def test_hand_credit_note_takes_back_latest_expiry_first(self):
        first = self._sell(self.pkg_month, date="2026-01-10")
        renewal = self._sell(self.pkg_month, date="2026-01-12")
        sms_first = first.credit_grant_ids.filtered(
            lambda g: g.credit_type_id == self.sms
        )
        sms_renewal = renewal.credit_grant_ids.filtered(
            lambda g: g.credit_type_id == self.sms
        )
        self.assertEqual(sms_renewal.date_start, D("2026-02-10"))
        refund = self._hand_refund(self.pkg_month, 0.5)
        self.assertFalse(refund.reversed_entry_id)
        self.assertEqual(sms_renewal.quantity_cancelled, 50, "latest expiry first")
        self.assertEqual(sms_first.quantity_cancelled, 0)
        minutes = renewal.credit_grant_ids - sms_renewal
        self.assertEqual(minutes.quantity_remaining, 15)
        self.assertEqual(self._active(self.sms), 150)
        # Units already consumed cannot be taken back.
        self.customer.consume_credits(self.sms, 60)
        too_much = self._hand_refund(self.pkg_month, 1, post=False)
        with self.assertRaises(UserError) as caught:
            too_much.action_post()
        message = caught.exception.args[0]
        self.assertIn("100 SMS of Test SMS", message)
        self.assertIn("90 SMS remain unused", message)
        self.assertEqual(too_much.state, "draft")
        self.assertEqual(self._active(self.sms), 90)
        # The units it took back are not handed out again by a reset to draft.
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            refund.button_draft()

    # ------------------------------------------------------------------
    # 7. "Usable when paid": the units follow the payment
    # ------------------------------------------------------------------
    @freeze_time("2026-01-20")
    def test_paid_units_withdrawn_when_payment_removed_and_regranted_once(self):
        self.company.credit_availability = "paid"
        invoice = self._sell(self.pkg_month, quantity=2, date="2026-01-10")
        payment = self._pay(invoice)
        self.assertEqual(self._active(self.sms), 200)
        self.assertEqual(self._active(self.minute), 60)
        # Unreconcile: the invoice is no longer paid, its units are withdrawn.
        self._unreconcile(invoice)
        self.assertEqual(self._active(self.sms), 0)
        self.assertEqual(self._active(self.minute), 0)
        with self.assertRaisesRegex(UserError, "0 SMS available"):
            self.customer.consume_credits(self.sms, 1)
        # Reconcile again: the same units come back, never twice.
        self._reconcile(invoice, payment)
        self.assertEqual(self._active(self.sms), 200)
        self.assertEqual(len(invoice.credit_grant_ids), 2)
        invoice._invoice_paid_hook()  # in_payment -> paid
        self.assertEqual(self._active(self.sms), 200)
        # Units consumed while it was paid stay consumed; the rest follows.
        self.customer.consume_credits(self.sms, 30)
        self._unreconcile(invoice)
        self.assertEqual(self._active(self.sms), 0)
        self._reconcile(invoice, payment)
        self.assertEqual(self._active(self.sms), 170)
        self.assertEqual(sum(self._grants(self.sms).mapped("quantity")), 200)
        # Cancelling the payment withdraws them too.
        payment.action_draft()
        payment.action_cancel()
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(self._active(self.sms), 0)
        self.assertEqual(self._active(self.minute), 0)
        # Paid again by another payment: what is paid for, once.
        self._pay(invoice, date="2026-01-20")
        self.assertEqual(self._active(self.sms), 170)
        self.assertEqual(self._active(self.minute), 60)
        self.assertEqual(len(invoice.credit_grant_ids), 2)

    @freeze_time("2026-01-20")
    def test_paid_partial_reversal_between_payments(self):
        self.company.credit_availability = "paid"
        invoice = self._sell(self.pkg_month, quantity=2, date="2026-01-10")
        payment = self._pay(invoice)
        self.assertEqual(self._active(self.sms), 200)
        refund = invoice._reverse_moves(
            [{"invoice_date": D("2026-01-20"), "date": D("2026-01-20")}]
        )
        refund.invoice_line_ids.filtered("product_id").quantity = 1
        refund.action_post()
        self.assertEqual(self._active(self.sms), 100)
        self._unreconcile(invoice)
        self.assertEqual(self._active(self.sms), 0)
        # Paid again: what the customer paid for, net of the credit note.
        self._reconcile(invoice, payment)
        self.assertEqual(self._active(self.sms), 100)
        self.assertEqual(self._active(self.minute), 30)
        invoice._invoice_paid_hook()
        self.assertEqual(self._active(self.sms), 100)

    @freeze_time("2026-01-20")
    def test_paid_two_lines_partial_reversal_never_grants_twice(self):
        self.company.credit_availability = "paid"
        invoice = self._sell(self.pkg_month, date="2026-01-10", post=False)
        invoice.write(
            {
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": self.pkg_month.product_id.id,
                            "quantity": 1,
                            "price_unit": 50.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ]
            }
        )
        invoice.action_post()
        self._pay(invoice)
        self.assertEqual(self._active(self.sms), 200)
        refund = invoice._reverse_moves(
            [{"invoice_date": D("2026-01-20"), "date": D("2026-01-20")}]
        )
        second = refund.invoice_line_ids.filtered("product_id")[1]
        refund.write({"invoice_line_ids": [Command.unlink(second.id)]})
        refund.action_post()
        self.assertEqual(self._active(self.sms), 100)
        # The second line's grant is fully cancelled: it was granted all the same.
        invoice._invoice_paid_hook()
        self.assertEqual(self._active(self.sms), 100)
        self.assertEqual(len(invoice.credit_grant_ids), 4)

    @freeze_time("2026-01-20")
    def test_paid_credit_note_while_unpaid_takes_withdrawn_units(self):
        self.company.credit_availability = "paid"
        invoice = self._sell(self.pkg_month, quantity=2, date="2026-01-10")
        payment = self._pay(invoice)
        self._unreconcile(invoice)
        refund = invoice._reverse_moves(
            [{"invoice_date": D("2026-01-20"), "date": D("2026-01-20")}]
        )
        refund.invoice_line_ids.filtered("product_id").quantity = 1
        refund.action_post()
        self._reconcile(invoice, payment)
        self.assertEqual(self._active(self.sms), 100)

    # ------------------------------------------------------------------
    # 8. Consumption dates are bounded
    # ------------------------------------------------------------------
    @freeze_time("2026-01-15")
    def test_future_consumption_refused(self):
        self._grant(10, "2026-01-01", "2026-03-01")
        with self.assertRaisesRegex(UserError, "01/16/2026.*future"):
            self.customer.consume_credits(self.sms, 1, date="2026-01-16")
        self.assertFalse(
            self.env["credit.consumption"].search(
                [("partner_id", "=", self.customer.id)]
            )
        )
        self.assertEqual(
            self.customer.consume_credits(self.sms, 1, date="2026-01-15").quantity, 1
        )

    @freeze_time("2026-01-15")
    def test_past_consumption_uses_grants_valid_then_and_not_expired_now(self):
        expired = self._grant(10, "2026-01-01", "2026-01-10")  # not swept yet
        later = self._grant(10, "2026-01-08", "2026-03-01")
        current = self._grant(10, "2026-01-01", "2026-02-01")
        self.assertEqual(expired.state, "active")
        consumption = self.customer.consume_credits(self.sms, 4, date="2026-01-05")
        self.assertEqual(consumption.allocation_ids.grant_id, current)
        with self.assertRaisesRegex(UserError, "7 SMS requested, 6 SMS available"):
            self.customer.consume_credits(self.sms, 7, date="2026-01-05")
        self.assertEqual(expired.quantity_remaining, 10)
        self.assertEqual(later.quantity_remaining, 10)

    @freeze_time("2026-01-15")
    def test_status_counts_only_usable_grants(self):
        self._grant(10, "2026-01-01", "2026-01-10")  # expired, not swept yet
        self._grant(20, "2026-01-01", "2026-02-01")
        self._grant(30, "2026-02-01", "2026-03-01")  # the next subscription
        status = {
            row["credit_type_id"]: row for row in self.customer.get_credit_status()
        }[self.sms.id]
        self.assertEqual(status["remaining"], 20)
        self.assertEqual(status["next_expiry"], D("2026-02-01"))
        self.assertEqual(status["next_expiry_quantity"], 20)
        self.assertEqual(status["upcoming"], 30)
        on_feb = {
            row["credit_type_id"]: row
            for row in self.customer.get_credit_status(date="2026-02-01")
        }[self.sms.id]
        self.assertEqual(on_feb["remaining"], 30)
        self.assertEqual(on_feb["upcoming"], 0)
        wizard = self.env["credit.consumption.register"].create(
            {
                "partner_id": self.customer.id,
                "credit_type_id": self.sms.id,
                "quantity": 1,
                "date": "2026-01-05",
            }
        )
        self.assertEqual(wizard.available, 20, "what a consumption then may use")
