from freezegun import freeze_time

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CreditInvoicingCommon

D = fields.Date.to_date


@tagged("post_install", "-at_install")
class TestCreditRenewal(CreditInvoicingCommon):
    """Automatic renewal of subscriptions: once per period, whatever the runs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"credit_renewal_days": 7, "credit_renewal_mode": "post"})
        cls.customer.email = "renewal.customer@example.com"
        with freeze_time("2026-01-10"):
            cls.first = cls._sell(cls.pkg_month, date="2026-01-10")
        cls.subscription = cls.env["credit.subscription"].search(
            [
                ("partner_id", "=", cls.customer.id),
                ("package_id", "=", cls.pkg_month.id),
            ]
        )

    def _run(self, date):
        with freeze_time(date):
            self.env["credit.subscription"]._cron_auto_renew()

    def _renewal_invoices(self):
        return self.subscription.renewal_ids.move_id

    def test_subscription_created_with_first_grant(self):
        self.assertEqual(len(self.subscription), 1)
        self.assertFalse(self.subscription.auto_renew)
        self.assertEqual(self.subscription.date_expiry, D("2026-02-10"))
        # Selling it again keeps one subscription per customer and package.
        with freeze_time("2026-01-12"):
            self._sell(self.pkg_month, date="2026-01-12")
        self.assertEqual(
            self.env["credit.subscription"].search_count(
                [("partner_id", "=", self.customer.id)]
            ),
            1,
        )
        self.subscription.invalidate_recordset(["date_expiry"])
        self.assertEqual(self.subscription.date_expiry, D("2026-03-10"))

    def test_renewal_posted_once_and_chained(self):
        self.subscription.auto_renew = True
        self._run("2026-02-02")  # before the window (expiry - 7 days)
        self.assertFalse(self._renewal_invoices())
        self._run("2026-02-03")
        invoice = self._renewal_invoices()
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.is_move_sent)
        self.assertEqual(invoice.invoice_date, D("2026-02-03"))
        self.assertEqual(invoice.amount_untaxed, 50.0)
        sms = invoice.credit_grant_ids.filtered(lambda g: g.credit_type_id == self.sms)
        # No gap, no overlap: the renewed units start when the current expire.
        self.assertEqual(sms.date_start, D("2026-02-10"))
        self.assertEqual(sms.date_expiry, D("2026-03-10"))
        # Run twice the same day, and the next days: nothing more.
        self._run("2026-02-03")
        self._run("2026-02-04")
        self._run("2026-02-09")
        self.assertEqual(self._renewal_invoices(), invoice)
        # The next period renews in its own window.
        self._run("2026-03-03")
        self.assertEqual(len(self._renewal_invoices()), 2)
        second = self._renewal_invoices() - invoice
        self.assertEqual(
            second.credit_grant_ids.filtered(
                lambda g: g.credit_type_id == self.sms
            ).date_start,
            D("2026-03-10"),
        )

    def test_skipped_days_renew_once(self):
        self.subscription.auto_renew = True
        self._run("2026-02-09")  # the cron did not run from 02-03 to 02-08
        invoice = self._renewal_invoices()
        self.assertEqual(len(invoice), 1)
        self.assertEqual(
            invoice.credit_grant_ids.mapped("date_start"), [D("2026-02-10")] * 2
        )
        # Expired without renewal is not renewed after the fact.
        other = self.env["res.partner"].create({"name": "Lapsed customer"})
        with freeze_time("2026-01-10"):
            self._sell(self.pkg_month, date="2026-01-10", partner=other)
        lapsed = self.env["credit.subscription"].search([("partner_id", "=", other.id)])
        lapsed.auto_renew = True
        self._run("2026-02-10")
        self.assertFalse(lapsed.renewal_ids)

    def test_draft_mode_never_duplicates(self):
        self.company.credit_renewal_mode = "draft"
        self.subscription.auto_renew = True
        self._run("2026-02-05")
        invoice = self._renewal_invoices()
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(invoice.credit_grant_ids)
        # Still in draft the next days: the period was claimed, no second one.
        self._run("2026-02-06")
        self._run("2026-02-09")
        self.assertEqual(self._renewal_invoices(), invoice)
        # Posted after review, it chains like any renewal.
        with freeze_time("2026-02-09"):
            invoice.action_post()
        self.assertEqual(
            invoice.credit_grant_ids.mapped("date_start"), [D("2026-02-10")] * 2
        )

    def test_turned_off_is_not_renewed(self):
        self._run("2026-02-05")
        self.assertFalse(self._renewal_invoices())
        self.subscription.auto_renew = True
        self.subscription.auto_renew = False
        self._run("2026-02-06")
        self.assertFalse(self._renewal_invoices())

    def test_only_auto_renew_is_writable(self):
        user = new_test_user(
            self.env,
            login="renewal_user",
            groups="account.group_account_invoice,installment_credit.group_installment_user",
        )
        subscription = self.subscription.with_user(user)
        subscription.auto_renew = True
        self.assertTrue(self.subscription.auto_renew)
        with self.assertRaisesRegex(UserError, "Only auto-renew can be changed"):
            subscription.partner_id = self.partner_b

    def test_negative_renewal_days_refused(self):
        with self.assertRaisesRegex(Exception, "zero or more days before expiry"):
            self.company.credit_renewal_days = -1


@tagged("post_install", "-at_install")
class TestCreditRenewalPortal(HttpCase):
    """The customer turns automatic renewal on and off from /my/credits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="renewal_portal", groups="base.group_portal"
        )
        cls.other_user = new_test_user(
            cls.env, login="renewal_portal_other", groups="base.group_portal"
        )
        ctype = cls.env["credit.type"].create(
            {"name": "Renewal SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        package = cls.env["credit.package"].create(
            {
                "name": "Renewal package",
                "line_ids": [(0, 0, {"credit_type_id": ctype.id, "quantity": 10})],
            }
        )
        Subscription = cls.env["credit.subscription"]
        cls.own = Subscription._ensure([(cls.portal_user.partner_id, package)])
        cls.other = Subscription._ensure([(cls.other_user.partner_id, package)])

    def _toggle(self, subscription, on):
        data = {"csrf_token": http.Request.csrf_token(self)}
        if on:
            data["auto_renew"] = "1"
        return self.url_open(
            f"/my/credits/subscription/{subscription.id}/auto_renew",
            data=data,
            allow_redirects=False,
        )

    def test_portal_toggle(self):
        self.authenticate("renewal_portal", "renewal_portal")
        text = self.url_open("/my/credits").text
        self.assertIn("o_credit_auto_renew_on", text)
        self.assertIn("Renewal package", text)
        self.assertIn(self._toggle(self.own, on=True).status_code, (302, 303))
        self.assertTrue(self.own.auto_renew)
        self.assertIn("o_credit_auto_renew_off", self.url_open("/my/credits").text)
        self._toggle(self.own, on=False)
        self.assertFalse(self.own.auto_renew)
        # Another customer's subscription: 404, unchanged.
        self.assertEqual(self._toggle(self.other, on=True).status_code, 404)
        self.assertFalse(self.other.auto_renew)
        # Without the CSRF token the form post is refused.
        with self.assertLogs("odoo.http", level="WARNING"):
            response = self.url_open(
                f"/my/credits/subscription/{self.own.id}/auto_renew",
                data={"auto_renew": "1"},
                allow_redirects=False,
            )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.own.auto_renew)
