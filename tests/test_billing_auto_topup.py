from freezegun import freeze_time

from odoo.tests import tagged

from .common import BillingCommon


@freeze_time("2026-03-15")
@tagged("post_install", "-at_install")
class TestBillingAutoTopup(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write(
            {
                "auto_topup_enabled": True,
                "auto_topup_threshold": 100.0,
                "auto_topup_amount": 500.0,
                "email": "prepaid@example.com",
            }
        )

    def _topups(self):
        return self.env["account.move"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("move_type", "=", "out_invoice"),
                ("line_ids.account_id", "=", self.prepayment_account.id),
            ]
        )

    def test_fires_once_not_twice(self):
        self._fund(300.0)
        self._invoice(150.0)
        self.assertEqual(len(self._topups()), 1, "balance 150 >= 100: no top-up")
        self._invoice(100.0)
        topups = self._topups().sorted("id")
        self.assertEqual(len(topups), 2, "balance 50 < 100: one top-up")
        new = topups[-1]
        self.assertEqual(new.state, "posted")
        self.assertAlmostEqual(new.amount_total, 500.0)
        self.assertTrue(new.is_move_sent)
        mail = new.message_ids.filtered(lambda m: "top-up invoice" in (m.subject or ""))
        self.assertEqual(len(mail), 1)
        self.assertIn(self.customer, mail.partner_ids)
        # still below threshold, top-up unpaid: no second one, at posting or cron
        self._invoice(10.0)
        self.env["res.partner"]._cron_prepaid_auto_topup()
        self.assertEqual(len(self._topups()), 2)
        self.assertBalanceMatchesLedger(40.0)
        # paid: balance 540, above threshold; spending down again fires again
        self._pay(new)
        self.assertBalanceMatchesLedger(540.0)
        self._invoice(480.0)
        self.assertEqual(len(self._topups()), 3)

    def test_cron_creates_for_partners_below_threshold(self):
        self.assertIn(
            self.customer,
            self.env["res.partner"].search([("billing_below_threshold", "=", True)]),
        )
        self.env.ref(
            "installment_credit.ir_cron_prepaid_auto_topup"
        ).method_direct_trigger()
        self.assertEqual(len(self._topups()), 1)
        self.env["res.partner"]._cron_prepaid_auto_topup()
        self.assertEqual(len(self._topups()), 1)

    def test_disabled_or_postpaid_never_fires(self):
        self.customer.auto_topup_enabled = False
        self.env["res.partner"]._cron_prepaid_auto_topup()
        self.assertFalse(self._topups())
        self.customer.write({"auto_topup_enabled": True, "billing_mode": "postpaid"})
        self.env["res.partner"]._cron_prepaid_auto_topup()
        self.assertFalse(self._topups())

    def test_cron_batches_with_progress(self):
        second = self.env["res.partner"].create(
            {
                "name": "Second prepaid",
                "billing_mode": "prepaid",
                "auto_topup_enabled": True,
                "auto_topup_threshold": 10.0,
                "auto_topup_amount": 200.0,
            }
        )
        cron = self.env.ref("installment_credit.ir_cron_prepaid_auto_topup")
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": cron.id, "remaining": 0, "done": 0}
        )
        self.env["res.partner"].with_context(
            ir_cron_progress_id=progress.id
        )._cron_prepaid_auto_topup(batch_size=1)
        self.assertEqual(len(self._topups()), 1)
        self.assertEqual(
            self.env["account.move"].search_count([("partner_id", "=", second.id)]), 1
        )
        self.assertEqual(progress.remaining, 0)
        self.assertGreaterEqual(progress.done, 2, "one step per batch of one partner")
