from odoo import Command, fields

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CreditInvoicingCommon(AccountTestInvoicingCommon):
    """Company with a chart of accounts, two credit types and three packages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.credit_availability = "posted"
        cls.sms = cls.env["credit.type"].create(
            {"name": "Test SMS", "unit_name": "SMS", "rounding": 1.0}
        )
        cls.minute = cls.env["credit.type"].create(
            {"name": "Test minutes", "unit_name": "minute", "rounding": 0.01}
        )
        cls.pkg_month = cls.env["credit.package"].create(
            {
                "name": "SMS 100 monthly",
                "package_kind": "subscription",
                "validity_number": 1,
                "validity_unit": "month",
                "list_price": 50.0,
                "line_ids": [
                    Command.create({"credit_type_id": cls.sms.id, "quantity": 100}),
                    Command.create({"credit_type_id": cls.minute.id, "quantity": 30}),
                ],
            }
        )
        cls.pkg_recharge = cls.env["credit.package"].create(
            {
                "name": "SMS recharge 40",
                "package_kind": "recharge",
                "validity_number": 1,
                "validity_unit": "month",
                "list_price": 20.0,
                "line_ids": [
                    Command.create({"credit_type_id": cls.sms.id, "quantity": 40})
                ],
            }
        )
        cls.customer = cls.partner_a

    @classmethod
    def _sell(cls, package, quantity=1.0, date="2026-01-10", partner=None, post=True):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or cls.customer).id,
                "invoice_date": fields.Date.to_date(date),
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
            invoice.action_post()
        return invoice

    def _grants(self, ctype=None, partner=None):
        domain = [("partner_id", "=", (partner or self.customer).id)]
        if ctype:
            domain.append(("credit_type_id", "=", ctype.id))
        return self.env["credit.grant"].search(domain, order="date_start, id")
