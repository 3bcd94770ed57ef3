"""Fixture shared by the tests of the integration API over HTTP and RPC: a
credit type with a code, a customer with a ref and grants, a posted invoice,
and users with API keys."""

from odoo import Command
from odoo.tests import HttpCase, new_test_user


class ApiHttpCommon(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.sms = cls.env["credit.type"].create(
            {"name": "API SMS", "unit_name": "SMS", "code": "api_sms"}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "API customer", "ref": "API-CUST"}
        )
        cls.grant = cls.env["credit.grant"].create(
            {
                "partner_id": cls.customer.id,
                "credit_type_id": cls.sms.id,
                "company_id": cls.company.id,
                "quantity": 100,
                "date_start": "2026-01-01",
                "date_expiry": "2026-03-01",
            }
        )
        cls.user = new_test_user(
            cls.env,
            login="api_integrator",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )
        cls.low_user = new_test_user(
            cls.env, login="api_low_rights", groups="base.group_user"
        )
        ApiKeys = cls.env["res.users.apikeys"]
        cls.key = ApiKeys.with_user(cls.user).sudo()._generate(None, "tests", None)
        cls.low_key = (
            ApiKeys.with_user(cls.low_user).sudo()._generate(None, "tests", None)
        )
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": "2026-01-05",
                "date": "2026-01-05",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Service",
                            "quantity": 1,
                            "price_unit": 300.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        cls.invoice.action_post()
