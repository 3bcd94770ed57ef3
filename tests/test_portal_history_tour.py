from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

NOTE = "Secret: agreed by phone, watch this customer"


@tagged("post_install", "-at_install")
class TestPortalPlanHistory(HttpCase):
    """The portal plan page: payment reference and change history shown,
    the internal note never."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.installment_working_day_policy = "keep"
        cls.portal_user = new_test_user(
            cls.env,
            login="history_portal",
            groups="base.group_portal",
            name="History Customer",
            email="history.customer@example.com",
        )
        customer = cls.portal_user.partner_id
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "invoice_date": "2026-01-10",
                "date": "2026-01-10",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "service", "price_unit": 900.0, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        invoice.payment_reference = "RF18 5390 0754 7034"
        # Far enough ahead that nothing is late whatever today is.
        first = fields.Date.to_date("2026-02-10")
        cls.plan = invoice.create_installment_plan(count=3, first_due_date=first)
        second, third = cls.plan.line_ids.sorted()[1:]
        second.write({"amount": 200.0})
        third.write({"due_date": first + relativedelta(months=2, days=10)})
        cls.plan.internal_note = NOTE

    def test_portal_page_shows_history_not_note(self):
        self.authenticate("history_portal", "history_portal")
        response = self.url_open(f"/my/installments/{self.plan.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_installment_history", response.text)
        self.assertIn("RF18 5390 0754 7034", response.text)
        self.assertNotIn(NOTE, response.text)
        self.assertNotIn("Secret", response.text)
        # The list shows the payment reference, not the history.
        listing = self.url_open("/my/installments")
        self.assertIn("RF18 5390 0754 7034", listing.text)
        self.assertNotIn("o_installment_history", listing.text)
        self.assertNotIn(NOTE, listing.text)

    def test_tour_portal_history(self):
        self.start_tour(
            f"/my/installments/{self.plan.id}",
            "installment_credit_portal_history",
            login="history_portal",
        )
