from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestCreditBrowser(HttpCase):
    def test_tour_register_consumption_from_partner(self):
        ctype = self.env["credit.type"].create(
            {"name": "Tour SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        customer = self.env["res.partner"].create(
            {"name": "Credit Tour Customer", "is_company": True}
        )
        # Dated around today: the balance view and the wizard work on today.
        today = fields.Date.today()
        self.env["credit.grant"].create(
            {
                "partner_id": customer.id,
                "credit_type_id": ctype.id,
                "quantity": 20,
                "date_start": today - relativedelta(days=1),
                "date_expiry": today + relativedelta(years=1),
            }
        )
        self.start_tour(
            f"/odoo/res.partner/{customer.id}",
            "installment_credit_register_consumption",
            login="admin",
        )
        consumption = self.env["credit.consumption"].search(
            [("partner_id", "=", customer.id)]
        )
        self.assertEqual(consumption.quantity, 7)
        self.assertEqual(consumption.description, "Tour campaign")
        self.assertEqual(consumption.allocation_ids.grant_id.quantity_remaining, 13)
