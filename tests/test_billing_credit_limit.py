from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import BillingCommon


@freeze_time("2026-03-15")
@tagged("post_install", "-at_install")
class TestBillingCreditLimit(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="billing_clerk",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.boss = new_test_user(
            cls.env,
            login="billing_boss",
            groups="account.group_account_invoice,"
            "installment_credit.group_installment_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def test_block_boundary_exposure_equal_to_limit_passes(self):
        self._invoice(600.0, partner=self.postpaid)
        invoice = self._invoice(400.0, partner=self.postpaid, post=False)
        invoice.with_user(self.clerk).action_post()
        self.assertEqual(invoice.state, "posted")
        over = self._invoice(0.01, partner=self.postpaid, post=False)
        with self.assertRaises(UserError) as error:
            over.with_user(self.clerk).action_post()
        message = str(error.exception)
        self.assertIn("credit limit", message)
        self.assertIn(self.currency.format(1000.0), message)
        self.assertIn(self.currency.format(1000.01), message)
        self.assertIn(self.currency.format(0.01), message)
        self.assertEqual(over.state, "draft")

    def test_block_counts_payments_and_batch(self):
        first = self._invoice(900.0, partner=self.postpaid)
        self._pay(first, amount=500.0)
        # open 400: two drafts of 300 together reach 1000 exactly, a third fails
        drafts = self._invoice(
            300.0, partner=self.postpaid, post=False
        ) | self._invoice(300.0, partner=self.postpaid, post=False)
        drafts.with_user(self.clerk).action_post()
        self.assertEqual(set(drafts.mapped("state")), {"posted"})
        with self.assertRaises(UserError):
            self._invoice(1.0, partner=self.postpaid)

    def test_warn_policy_posts_with_odoo_banner(self):
        self.company.billing_limit_policy = "warn"
        self._invoice(900.0, partner=self.postpaid)
        at_limit = self._invoice(100.0, partner=self.postpaid, post=False)
        self.assertFalse(at_limit.partner_credit_warning, "exactly at the limit")
        at_limit.unlink()
        invoice = self._invoice(200.0, partner=self.postpaid, post=False)
        self.assertIn("has reached its credit limit", invoice.partner_credit_warning)
        invoice.with_user(self.clerk).action_post()
        self.assertEqual(invoice.state, "posted")

    def test_no_limit_or_limits_disabled(self):
        self.postpaid.credit_limit = 0.0
        self._invoice(5000.0, partner=self.postpaid)
        self.postpaid.credit_limit = 1000.0
        self.company.account_use_credit_limit = False
        self._invoice(5000.0, partner=self.postpaid)
        self.assertEqual(self.postpaid.with_company(self.company).credit, 10000.0)

    def test_manager_override_logs_reason(self):
        self._invoice(1000.0, partner=self.postpaid)
        invoice = self._invoice(250.0, partner=self.postpaid, post=False)
        action = invoice.with_user(self.boss).action_post()
        self.assertEqual(action["res_model"], "billing.limit.override")
        self.assertEqual(invoice.state, "draft")
        wizard = self.env["billing.limit.override"].browse(action["res_id"])
        self.assertIn(self.currency.format(250.0), wizard.message)
        wizard = wizard.with_user(self.boss)
        wizard.reason = "   "
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertEqual(invoice.state, "draft")
        wizard.reason = "Long-standing customer, paying on Friday"
        wizard.action_confirm()
        self.assertEqual(invoice.state, "posted")
        logged = invoice.message_ids.filtered(
            lambda m: "paying on Friday" in (m.body or "")
        )
        self.assertEqual(len(logged), 1)
        self.assertIn("billing_boss", logged.body)

    def test_manager_override_for_prepaid_customer(self):
        invoice = self._invoice(150.0, post=False)  # balance 0, limit 100
        action = invoice.with_user(self.boss).action_post()
        wizard = self.env["billing.limit.override"].browse(action["res_id"])
        self.assertIn("prepaid", wizard.message)
        wizard.with_user(self.boss).write({"reason": "Top-up promised today"})
        wizard.with_user(self.boss).action_confirm()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertBalanceMatchesLedger(-150.0)
        self.assertTrue(self.customer.billing_over_limit)

    def test_override_denied_to_normal_users(self):
        self._invoice(1000.0, partner=self.postpaid)
        invoice = self._invoice(250.0, partner=self.postpaid, post=False)
        # the override context alone is not trusted
        with self.assertRaises(UserError):
            invoice.with_user(self.clerk).with_context(
                installment_credit_override_limit=True
            ).action_post()
        with self.assertRaises(AccessError):
            self.env["billing.limit.override"].with_user(self.clerk).create(
                {"move_ids": invoice.ids, "reason": "please"}
            )
        self.assertEqual(invoice.state, "draft")

    def test_negative_limit_refused(self):
        with self.assertRaises(UserError) as error:
            self.postpaid.credit_limit = -5.0
        self.assertIn("cannot be negative", str(error.exception))

    def test_over_limit_filter(self):
        self.company.billing_limit_policy = "warn"
        self._invoice(1200.0, partner=self.postpaid)
        Partner = self.env["res.partner"]
        self.assertIn(
            self.postpaid, Partner.search([("billing_over_limit", "=", True)])
        )
        self.assertNotIn(
            self.postpaid, Partner.search([("billing_over_limit", "=", False)])
        )
        self.assertTrue(self.postpaid.billing_over_limit)

    def test_settings_and_form(self):
        settings = Form(self.env["res.config.settings"])
        settings.billing_limit_policy = "warn"
        settings.save()
        self.assertEqual(self.company.billing_limit_policy, "warn")
        with Form(self.postpaid) as partner_form:
            partner_form.billing_mode = "prepaid"
        self.assertEqual(self.postpaid.billing_mode, "prepaid")

    def test_partner_views_by_group(self):
        """The billing block is only in the views of invoicing users."""
        sales = new_test_user(
            self.env,
            login="billing_sales_only",
            groups="base.group_user,base.group_partner_manager",
        )
        Partner = self.env["res.partner"]
        arch = Partner.with_user(sales).get_views([(False, "form"), (False, "search")])
        self.assertNotIn("billing_mode", arch["views"]["form"]["arch"])
        self.assertNotIn("billing_over_limit", arch["views"]["search"]["arch"])
        arch = Partner.with_user(self.clerk).get_views(
            [(False, "form"), (False, "search")]
        )
        self.assertIn("billing_mode", arch["views"]["form"]["arch"])
        self.assertIn("action_prepaid_topup", arch["views"]["form"]["arch"])
        self.assertIn("billing_below_threshold", arch["views"]["search"]["arch"])
        form = etree.fromstring(arch["views"]["form"]["arch"])
        billing = form.xpath("//group[@name='billing']")[0]
        self.assertTrue(billing.xpath(".//field[@name='credit_limit']"))
        self.assertEqual(len(form.xpath("//field[@name='credit_limit']")), 1)
        # a sales user can still open and save a customer
        with Form(self.postpaid.with_user(sales)) as partner_form:
            partner_form.name = "Postpaid Ltd (renamed)"
