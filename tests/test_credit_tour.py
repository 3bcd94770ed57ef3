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

    def test_tour_quantities_shown_with_type_precision(self):
        """Every quantity shows its credit type's decimals, never four."""
        sms = self.env["credit.type"].create(
            {"name": "Display SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        minutes = self.env["credit.type"].create(
            {"name": "Display minutes", "unit_name": "minute", "rounding": 0.01}
        )
        self.assertEqual((sms.decimal_places, minutes.decimal_places), (0, 2))
        customer = self.env["res.partner"].create(
            {"name": "Display Customer", "is_company": True}
        )
        today = fields.Date.today()
        for ctype, quantity in ((sms, 1000), (minutes, 5962.5)):
            self.env["credit.grant"].create(
                {
                    "partner_id": customer.id,
                    "credit_type_id": ctype.id,
                    "quantity": quantity,
                    "date_start": today - relativedelta(days=1),
                    "date_expiry": today + relativedelta(years=1),
                }
            )
        self.start_tour(
            f"/odoo/res.partner/{customer.id}",
            "installment_credit_quantity_display",
            login="admin",
        )
        # The Credit Balance pivot: per type in its unit, no total across units.
        self.start_tour(
            "/odoo/action-installment_credit.credit_report_balance_action",
            "installment_credit_pivot_units",
            login="admin",
        )
