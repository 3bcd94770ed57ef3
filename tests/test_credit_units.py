"""Quantities of credit types are shown in their unit and never added across
units: grouped reads (pivot, graph, grouped lists) and emails."""

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestCreditUnits(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sms = cls.env["credit.type"].create(
            {"name": "Units SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        cls.minutes = cls.env["credit.type"].create(
            {"name": "Units minutes", "unit_name": "minutes", "rounding": 0.01}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Units customer"})
        cls.other = cls.env["res.partner"].create({"name": "Units other"})
        for partner, ctype, quantity in (
            (cls.customer, cls.sms, 1000),
            (cls.customer, cls.minutes, 5962.5),
            (cls.other, cls.sms, 250),
        ):
            cls.env["credit.grant"].create(
                {
                    "partner_id": partner.id,
                    "credit_type_id": ctype.id,
                    "quantity": quantity,
                    "date_start": "2026-01-01",
                    "date_expiry": "2027-01-01",
                }
            )
        cls.domain = [("partner_id", "in", (cls.customer | cls.other).ids)]

    @freeze_time("2026-06-01")
    def test_grouped_reads_never_add_units(self):
        Balance = self.env["credit.report.balance"]
        by_partner = {
            group["partner_id"][0]: group["quantity_remaining"]
            for group in Balance.read_group(
                self.domain, ["quantity_remaining:sum"], ["partner_id"]
            )
        }
        # Two types for the customer: no total; one type for the other: its sum.
        self.assertEqual(by_partner, {self.customer.id: False, self.other.id: 250})
        by_type = {
            group["credit_type_id"][0]: group["quantity_remaining"]
            for group in Balance.read_group(
                self.domain, ["quantity_remaining:sum"], ["credit_type_id"]
            )
        }
        self.assertEqual(by_type, {self.sms.id: 1250, self.minutes.id: 5962.5})
        # The pivot's grand total, and a cell of partner x type.
        [total] = Balance.read_group(self.domain, ["quantity_remaining:sum"], [])
        self.assertIs(total["quantity_remaining"], False)
        cells = Balance.read_group(
            self.domain,
            ["quantity_remaining:sum"],
            ["partner_id", "credit_type_id"],
            lazy=False,
        )
        self.assertEqual(
            sorted(group["quantity_remaining"] for group in cells), [250, 1000, 5962.5]
        )
        self.assertNotIn("ic_credit_type_count", cells[0])
        # Other measures keep their meaning; the grants and consumptions lists too.
        [count] = Balance.read_group(self.domain, ["partner_id:count"], [])
        self.assertEqual(count["partner_id"], 3)
        grants = {
            group["partner_id"][0]: group["quantity"]
            for group in self.env["credit.grant"].read_group(
                self.domain, ["quantity:sum"], ["partner_id"]
            )
        }
        self.assertEqual(grants, {self.customer.id: False, self.other.id: 250})

    @freeze_time("2026-06-01")
    def test_quantities_as_text_in_the_unit(self):
        self.assertEqual(self.sms._format_units(1250), "1,250 SMS")
        self.assertEqual(self.minutes._format_units(5962.5), "5,962.50 minutes")
        grant = self.env["credit.grant"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("credit_type_id", "=", self.sms.id),
            ]
        )
        grant.partner_id.email = "units@example.com"
        template = self.env.ref(
            "installment_credit.credit_grant_mail_template_expiring"
        )
        body = template._render_field("body_html", grant.ids)[grant.id]
        self.assertIn("1,000 SMS", body)
        self.assertNotIn("1000.0", body)
