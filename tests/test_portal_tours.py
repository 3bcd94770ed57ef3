from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestInstallmentBrowser(HttpCase):
    """Portal pages and browser tours, against a running Odoo server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Customer", "email": "tour.customer@example.com"}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="installment_portal",
            groups="base.group_portal",
            name="Portal Customer",
            email="portal.customer@example.com",
        )
        cls.other_portal_user = new_test_user(
            cls.env,
            login="installment_portal_other",
            groups="base.group_portal",
            name="Other Portal Customer",
        )

    @classmethod
    def _invoice(cls, partner, amount, date):
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": date,
                "date": date,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "service", "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        move.action_post()
        return move

    def _late_plan(self, partner):
        invoice = self._invoice(partner, 600.0, "2020-01-10")
        plan = invoice.create_installment_plan(count=3, first_due_date="2020-02-10")
        # The first installment is long past due: the daily action flags it.
        self.env["installment.plan.line"]._flip_late_installments(
            today=fields.Date.to_date("2020-02-20")
        )
        return plan

    def test_tour_invoice_wizard_and_rebalance(self):
        invoice = self._invoice(self.customer, 1000.0, "2026-01-10")
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "installment_credit_invoice_wizard",
            login="admin",
        )
        plan = invoice.installment_plan_id
        self.assertEqual(
            plan.line_ids.sorted("sequence").mapped("amount"), [333.33, 400.0, 266.67]
        )

    def test_tour_payment_term_preview(self):
        self.start_tour(
            "/odoo/action-account.action_payment_term_form/new",
            "installment_credit_payment_term",
            login="admin",
        )
        term = self.env["account.payment.term"].search(
            [("name", "=", "Installments on the 25th")]
        )
        self.assertTrue(term.installment_enabled)
        self.assertEqual(term.installment_first_type, "day_of_month")
        self.assertEqual(term.installment_first_day_of_month, 25)

    def _credits(self, partner, quantity=20, consume=7):
        ctype = self.env["credit.type"].search(
            [("name", "=", "Portal SMS")]
        ) or self.env["credit.type"].create(
            {"name": "Portal SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        # The server runs on the real clock: grants are dated around today.
        today = fields.Date.today()
        self.env["credit.grant"].create(
            {
                "partner_id": partner.id,
                "credit_type_id": ctype.id,
                "quantity": quantity,
                "date_start": today - relativedelta(days=1),
                "date_expiry": today + relativedelta(days=20),
            }
        )
        partner.consume_credits(ctype, consume, reference="Portal campaign")
        return ctype

    def test_tour_portal_late_installment(self):
        self._late_plan(self.portal_user.partner_id)
        self._credits(self.portal_user.partner_id)
        self.start_tour("/my", "installment_credit_portal", login="installment_portal")

    def test_portal_access_is_checked(self):
        own = self._late_plan(self.portal_user.partner_id)
        other = self._late_plan(self.other_portal_user.partner_id)

        # Anonymous visitors are sent to the login page.
        response = self.url_open(f"/my/installments/{own.id}", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

        self.authenticate("installment_portal", "installment_portal")
        response = self.url_open("/my/installments")
        self.assertEqual(response.status_code, 200)
        self.assertIn(own.move_id.name, response.text)
        self.assertNotIn(other.move_id.name, response.text)
        self.assertIn("o_installment_late", response.text)

        response = self.url_open(f"/my/installments/{own.id}")
        self.assertEqual(response.status_code, 200)
        # A guessed id of another customer's plan, or one that doesn't exist: 404.
        self.assertEqual(self.url_open(f"/my/installments/{other.id}").status_code, 404)
        self.assertEqual(self.url_open("/my/installments/999999").status_code, 404)

        # The home page counts the plans; the invoice page shows the schedule.
        response = self.url_open("/my/home")
        self.assertIn("/my/installments", response.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["installment_count"]}
        )
        self.assertEqual(counters["installment_count"], 1)
        own.move_id._portal_ensure_token()
        response = self.url_open(own.move_id.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn("installment_plan_schedule", response.text)
        self.assertIn("o_installment_late", response.text)

    def test_portal_credits_page(self):
        own = self.portal_user.partner_id
        self._credits(own, quantity=20, consume=7)
        self._credits(self.other_portal_user.partner_id, quantity=50, consume=9)
        response = self.url_open("/my/credits", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))

        self.authenticate("installment_portal", "installment_portal")
        text = self.url_open("/my/credits").text
        self.assertIn("Portal SMS", text)
        self.assertIn('<span class="o_credit_remaining">13</span>', text)
        expiry = fields.Date.today() + relativedelta(days=20)
        self.assertIn(expiry.strftime("%m/%d/%Y"), text)
        self.assertIn("Portal campaign", text)
        # Another customer's balance and history are not shown.
        self.assertNotIn('<span class="o_credit_remaining">41</span>', text)
        self.assertEqual(text.count("Portal campaign"), 1)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["credit_count"]}
        )
        self.assertEqual(counters["credit_count"], 1)
        self.assertNotIn("o_credit_prepaid", text)
        own.billing_mode = "prepaid"
        text = self.url_open("/my/credits").text
        self.assertIn("o_credit_prepaid", text)
        self.assertIn("Automatic top-up", text)
        # A back-office consumption shows on the next page load.
        own.consume_credits(
            self.env["credit.type"].search([("name", "=", "Portal SMS")]), 3
        )
        self.assertIn(
            '<span class="o_credit_remaining">10</span>',
            self.url_open("/my/credits").text,
        )

    def test_back_office_change_visible_on_next_load(self):
        plan = self._late_plan(self.portal_user.partner_id)
        self.authenticate("installment_portal", "installment_portal")
        self.assertIn("200.00", self.url_open("/my/installments").text)
        plan.line_ids.sorted("sequence")[1].amount = 150.0
        text = self.url_open("/my/installments").text
        self.assertIn("150.00", text)
        self.assertIn("250.00", text)
