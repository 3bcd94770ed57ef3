from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CreditInvoicingCommon

D = fields.Date.to_date


@tagged("post_install", "-at_install")
class TestCreditInvoicing(CreditInvoicingCommon):
    def _refund(self, invoice, quantity=None, date="2026-01-20"):
        refund = invoice._reverse_moves([{"invoice_date": D(date), "date": D(date)}])
        if quantity is not None:
            refund.invoice_line_ids.filtered("product_id").quantity = quantity
        return refund

    @freeze_time("2026-01-10")
    def test_package_product_kept_in_sync(self):
        product = self.pkg_month.product_id
        self.assertEqual(product.type, "service")
        self.assertEqual(product.name, "SMS 100 monthly")
        self.assertEqual(product.list_price, 50.0)
        self.pkg_month.write({"name": "SMS 100 a month", "list_price": 55.0})
        self.assertEqual(product.name, "SMS 100 a month")
        self.assertEqual(product.list_price, 55.0)
        self.pkg_month.active = False
        self.assertFalse(product.active)

    @freeze_time("2026-01-10")
    def test_posting_creates_grants(self):
        invoice = self._sell(self.pkg_month, quantity=2)
        grants = invoice.credit_grant_ids
        self.assertEqual(len(grants), 2)
        sms = grants.filtered(lambda g: g.credit_type_id == self.sms)
        self.assertEqual(sms.quantity, 200)
        self.assertEqual(sms.date_start, D("2026-01-10"))
        self.assertEqual(sms.date_expiry, D("2026-02-10"))
        self.assertEqual(sms.move_line_id, invoice.invoice_line_ids)
        self.assertEqual(sms.partner_id, self.customer)
        minutes = grants - sms
        self.assertEqual(minutes.quantity, 60)
        self.assertEqual(invoice.credit_grant_count, 2)
        self.assertEqual(
            self.env["credit.grant"].search(
                invoice.action_view_credit_grants()["domain"]
            ),
            grants,
        )
        Form(invoice)
        self.assertEqual(self.customer.credit_grant_count, 2)
        # Posting is idempotent with respect to grants (draft / re-post).
        invoice.button_draft()
        self.assertEqual(set(grants.mapped("state")), {"cancelled"})
        invoice.action_post()
        self.assertEqual(
            len(invoice.credit_grant_ids.filtered(lambda g: g.state == "active")), 2
        )

    @freeze_time("2026-01-10")
    def test_reset_to_draft_refused_once_consumed(self):
        invoice = self._sell(self.pkg_month)
        self.customer.consume_credits(self.sms, 1)
        with self.assertRaisesRegex(UserError, "already consumed"):
            invoice.button_draft()

    @freeze_time("2026-01-10")
    def test_available_on_payment_only_when_configured(self):
        self.company.credit_availability = "paid"
        invoice = self._sell(self.pkg_month)
        self.assertFalse(invoice.credit_grant_ids)
        with self.assertRaisesRegex(UserError, "has no Test SMS credits"):
            self.customer.consume_credits(self.sms, 1)
        # A partial payment does not make the units usable.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 20.0, "payment_date": D("2026-01-10")})._create_payments()
        self.assertFalse(invoice.credit_grant_ids)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": D("2026-01-12")})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        sms = invoice.credit_grant_ids.filtered(lambda g: g.credit_type_id == self.sms)
        self.assertEqual(sms.quantity, 100)
        self.assertEqual(
            sms.date_start, D("2026-01-10"), "validity runs from the invoice date"
        )
        self.assertEqual(self.customer.consume_credits(self.sms, 10).quantity, 10)
        # The hook can be called again (in_payment -> paid): no duplicate grants.
        invoice._invoice_paid_hook()
        self.assertEqual(len(invoice.credit_grant_ids), 2)

    @freeze_time("2026-01-10")
    def test_posting_mode_with_payment_mode_in_other_company_is_independent(self):
        other = self.setup_other_company()["company"]
        other.credit_availability = "paid"
        invoice = self._sell(self.pkg_month)
        self.assertEqual(len(invoice.credit_grant_ids), 2)

    @freeze_time("2026-01-20")
    def test_credit_note_cancels_unused_units(self):
        invoice = self._sell(self.pkg_month, quantity=2, date="2026-01-10")
        self.customer.consume_credits(self.sms, 130)
        # Refunding everything would cancel 200 SMS but only 70 remain.
        full = self._refund(invoice)
        with self.assertRaises(UserError) as caught:
            full.action_post()
        message = caught.exception.args[0]
        self.assertIn("200", message)
        self.assertIn("70", message)
        self.assertEqual(full.state, "draft")
        sms = invoice.credit_grant_ids.filtered(lambda g: g.credit_type_id == self.sms)
        self.assertEqual(sms.quantity_cancelled, 0)
        # Refunding one package of two would cancel 100 SMS: still too many.
        full.invoice_line_ids.filtered("product_id").quantity = 1
        # (assertRaises, not assertRaisesRegex: only the former rolls back to a
        # savepoint, as the request would roll back the whole transaction.)
        with self.assertRaises(UserError) as caught:
            full.action_post()
        self.assertIn("100 SMS of Test SMS", caught.exception.args[0])
        self.assertEqual(full.state, "draft")
        # Half a package (50 SMS, 15 minutes) is within the unused units.
        full.invoice_line_ids.filtered("product_id").quantity = 0.5
        full.action_post()
        self.assertEqual(sms.quantity_cancelled, 50)
        self.assertEqual(sms.quantity_remaining, 20)
        minutes = invoice.credit_grant_ids - sms
        self.assertEqual(minutes.quantity_cancelled, 15)
        self.assertEqual(minutes.quantity_remaining, 45)
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            full.button_draft()

    @freeze_time("2026-01-20")
    def test_full_credit_note_cancels_grants(self):
        invoice = self._sell(self.pkg_month, date="2026-01-10")
        refund = self._refund(invoice)
        refund.action_post()
        self.assertEqual(set(invoice.credit_grant_ids.mapped("state")), {"cancelled"})
        with self.assertRaisesRegex(UserError, "0 SMS available"):
            self.customer.consume_credits(self.sms, 1)

    @freeze_time("2026-01-20")
    def test_credit_note_before_payment_reduces_grants(self):
        self.company.credit_availability = "paid"
        invoice = self._sell(self.pkg_month, quantity=2, date="2026-01-10")
        self._refund(invoice, quantity=1).action_post()
        self.assertFalse(invoice.credit_grant_ids)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": D("2026-01-20")})._create_payments()
        sms = invoice.credit_grant_ids.filtered(lambda g: g.credit_type_id == self.sms)
        self.assertEqual(sms.quantity, 100)
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            invoice.reversal_move_ids.button_draft()

    def test_renewal_without_gap_or_overlap(self):
        with freeze_time("2026-01-10"):
            first = self._sell(self.pkg_month).credit_grant_ids
            current = first.filtered(lambda g: g.credit_type_id == self.sms)
        with freeze_time("2026-01-25"):
            action = current.action_renew()
            renewal = self.env["account.move"].browse(action["res_id"])
            self.assertEqual(renewal.state, "draft")
            self.assertEqual(
                renewal.invoice_line_ids.product_id, self.pkg_month.product_id
            )
            self.assertEqual(renewal.invoice_date, D("2026-01-25"))
            renewal.action_post()
            new = renewal.credit_grant_ids.filtered(
                lambda g: g.credit_type_id == self.sms
            )
            self.assertEqual(new.date_start, current.date_expiry)
            self.assertEqual(new.date_expiry, D("2026-03-10"))
            self.customer.consume_credits(self.sms, 100)
            with self.assertRaisesRegex(UserError, "0 SMS available"):
                self.customer.consume_credits(self.sms, 1)
        with freeze_time("2026-02-10"):
            self.env["credit.grant"]._cron_expire_and_notify()
            consumption = self.customer.consume_credits(self.sms, 5)
            self.assertEqual(consumption.allocation_ids.grant_id, new)
        with freeze_time("2026-03-20"):
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(new.state, "expired")
            # Renewing after the subscription ended starts today.
            wizard = Form(
                self.env["credit.package.sell"].with_context(
                    default_partner_id=self.customer.id,
                    default_package_kind="subscription",
                )
            ).save()
            self.assertEqual(wizard.package_id, self.pkg_month)
            late = self.env["account.move"].browse(
                wizard.action_create_invoice()["res_id"]
            )
            late.action_post()
            grant = late.credit_grant_ids.filtered(
                lambda g: g.credit_type_id == self.sms
            )
            self.assertEqual(grant.date_start, D("2026-03-20"))
            self.assertEqual(grant.date_expiry, D("2026-04-20"))

    def test_recharge_expires_with_subscription(self):
        with (
            freeze_time("2026-01-20"),
            self.assertRaisesRegex(UserError, "sell a subscription first"),
        ):
            self._sell(self.pkg_recharge, date="2026-01-20")
        with freeze_time("2026-01-10"):
            self._sell(self.pkg_month, date="2026-01-10")
        with freeze_time("2026-01-20"):
            self.customer.consume_credits(self.sms, 100)
            recharge = self._sell(self.pkg_recharge, quantity=2, date="2026-01-20")
            grant = recharge.credit_grant_ids
            self.assertEqual(grant.quantity, 80)
            self.assertEqual(grant.date_start, D("2026-01-20"))
            self.assertEqual(grant.date_expiry, D("2026-02-10"))
            self.assertEqual(self.customer.consume_credits(self.sms, 30).quantity, 30)
        with freeze_time("2026-02-10"):
            self.env["credit.grant"]._cron_expire_and_notify()
            self.assertEqual(grant.state, "expired")
            self.assertEqual(grant.quantity_expired, 50)

    @freeze_time("2026-11-30")
    def test_subscription_and_recharge_on_one_invoice(self):
        """The recharge attaches to the subscription sold on the same invoice,
        whatever the order of the lines."""
        invoice = self._sell(self.pkg_recharge, date="2026-11-30", post=False)
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
        grants = invoice.credit_grant_ids
        subscription = grants.filtered(
            lambda g: g.package_kind == "subscription" and g.credit_type_id == self.sms
        )
        recharge = grants.filtered(lambda g: g.package_kind == "recharge")
        self.assertEqual(subscription.quantity, 100)
        self.assertEqual(recharge.quantity, 40)
        self.assertEqual(subscription.date_expiry, D("2026-12-30"))
        self.assertEqual(recharge.date_start, D("2026-11-30"))
        self.assertEqual(recharge.date_expiry, subscription.date_expiry)
        self.assertEqual(self.customer.consume_credits(self.sms, 140).quantity, 140)

    @freeze_time("2026-11-30")
    def test_recharge_with_other_subscription_type_refused(self):
        """A subscription on the invoice only covers its own credit types."""
        other = self.env["credit.type"].create(
            {"name": "Test GB", "unit_name": "GB", "rounding": 1.0}
        )
        self.pkg_recharge.line_ids.credit_type_id = other
        invoice = self._sell(self.pkg_recharge, date="2026-11-30", post=False)
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
        with self.assertRaisesRegex(UserError, "sell a subscription first"):
            invoice.action_post()
        self.assertFalse(invoice.credit_grant_ids)

    @freeze_time("2026-01-10")
    def test_archived_package_cannot_be_sold(self):
        invoice = self._sell(self.pkg_month, post=False)
        self.pkg_month.active = False
        with self.assertRaisesRegex(UserError, "archived"):
            invoice.action_post()
        self.assertFalse(invoice.credit_grant_ids)
        self.pkg_month.active = True
        self.sms.active = False
        with self.assertRaisesRegex(UserError, "archived credit type"):
            invoice.action_post()

    @freeze_time("2026-01-25")
    def test_package_sales_report(self):
        self._sell(self.pkg_month, quantity=2, date="2026-01-10")
        invoice = self._sell(self.pkg_month, quantity=1, date="2026-01-12")
        self._sell(self.pkg_recharge, quantity=3, date="2026-01-15")
        self._refund(invoice).action_post()
        self.env.flush_all()
        rows = {
            package: (quantity, revenue)
            for package, quantity, revenue in self.env[
                "credit.report.package.sale"
            ]._read_group(
                [("partner_id", "=", self.customer.id)],
                ["package_id"],
                ["quantity:sum", "revenue:sum"],
            )
        }
        self.assertEqual(rows[self.pkg_month], (2.0, 100.0))
        self.assertEqual(rows[self.pkg_recharge], (3.0, 60.0))

    @freeze_time("2026-01-10")
    def test_partner_buttons(self):
        self._sell(self.pkg_month)
        action = self.customer.action_view_credit_grants()
        self.assertEqual(
            self.env["credit.grant"].search(action["domain"]),
            self._grants(),
        )
        recharge = self.customer.action_credit_recharge()
        self.assertEqual(recharge["context"]["default_package_kind"], "recharge")
        wizard = (
            self.env["credit.consumption.register"]
            .with_context(self.customer.action_credit_register_consumption()["context"])
            .create({"credit_type_id": self.minute.id, "quantity": 2.25})
        )
        self.assertEqual(wizard.available, 30)
        wizard.action_confirm()
        self.assertEqual(self._grants(self.minute).quantity_remaining, 27.75)
        self.assertTrue(
            self.env.ref("installment_credit.res_partner_view_form_credit").active
        )
        # The partner form with the Credits tab renders for an invoicing user.
        Form(self.customer)
        self.assertTrue(self.pkg_month.grant_count)
        self.assertEqual(
            self.env["credit.grant"].search(
                self.pkg_month.action_view_grants()["domain"]
            ),
            self._grants(),
        )
        self.assertTrue(Command)
