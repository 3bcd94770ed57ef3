"""Replica readiness: every route and RPC method of the add-on that only reads
is marked so that Odoo 18 serves it on a read-only cursor (the replica when
``db_replica_host`` is set); everything that writes is not. The pages are
then served for real on the read-only test cursor (a write there would make
Odoo log a warning and retry on a read/write cursor)."""

import inspect
import threading

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

ADDON_MODULE = "odoo.addons.installment_credit."

# (path, HTTP methods) -> readonly: a new route must be added here, deciding.
EXPECTED_ROUTES = {
    ("/my/installments", None): True,
    ("/my/installments/page/<int:page>", None): True,
    ("/my/installments/<int:plan_id>", None): True,
    ("/my/credits", None): True,
    ("/my/credits/page/<int:page>", None): True,
    ("/api/credits/v1/customers/<string:customer>/balance", ("GET",)): True,
    ("/api/installments/v1/invoices/<int:invoice_id>/plan", ("GET",)): True,
    # writes
    ("/my/credits/subscription/<int:subscription_id>/auto_renew", ("POST",)): False,
    ("/api/credits/v1/consumptions", ("POST",)): False,
    ("/api/installments/v1/invoices/<int:invoice_id>/plan", ("POST",)): False,
}

# Public methods of the add-on that only read, callable on a read-only cursor
# through /web/dataset/call_kw and call_button (``@api.readonly``).
EXPECTED_READONLY_METHODS = {
    ("account.move", "action_open_installment_wizard"),
    ("account.move", "action_view_credit_grants"),
    ("account.move", "action_view_installment_plan"),
    ("credit.consumption", "action_open_source"),
    ("credit.package", "action_view_grants"),
    ("installment.plan", "action_open_invoice"),
    ("installment.reminder.rule", "action_view_logs"),
    ("res.partner", "action_credit_recharge"),
    ("res.partner", "action_credit_register_consumption"),
    ("res.partner", "action_credit_renew"),
    ("res.partner", "action_prepaid_history"),
    ("res.partner", "action_prepaid_topup"),
    ("res.partner", "action_prepaid_withdraw"),
    ("res.partner", "action_register_installment_payment"),
    ("res.partner", "action_view_credit_grants"),
    ("res.partner", "action_view_installments"),
    ("res.partner", "get_credit_status"),
}

# Service methods that write: never on a read-only cursor.
WRITING_METHODS = {
    ("account.move", "create_installment_plan"),
    ("account.move", "action_post"),
    ("credit.consumption", "consume_batch"),
    ("credit.consumption", "action_reverse"),
    ("installment.plan", "action_send_reminder"),
    ("res.partner", "consume_credits"),
}


def _addon_routes(routing_map):
    routes = {}
    for rule in routing_map.iter_rules():
        func = getattr(rule.endpoint, "func", None)
        if not func or not func.__module__.startswith(ADDON_MODULE):
            continue
        methods = rule.endpoint.routing.get("methods")
        key = (rule.rule, tuple(methods) if methods else None)
        routes[key] = rule.endpoint.routing["readonly"]
    return routes


@tagged("post_install", "-at_install")
class TestReplicaReadiness(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="replica_portal", groups="base.group_portal"
        )
        cls.customer = cls.portal_user.partner_id
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": "2026-01-10",
                "date": "2026-01-10",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "service", "price_unit": 600.0, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        cls.plan = invoice.create_installment_plan(count=3, first_due_date="2026-02-10")
        # The plan's invoice has its access token from the plan's creation:
        # the installments page links to it without writing.
        assert invoice.access_token
        cls.sms = cls.env["credit.type"].create(
            {"name": "Replica SMS", "unit_name": "SMS", "code": "replica_sms"}
        )
        # The server runs on the real clock: the grant is dated around today.
        today = fields.Date.today()
        cls.env["credit.grant"].create(
            {
                "partner_id": cls.customer.id,
                "credit_type_id": cls.sms.id,
                "quantity": 20,
                "date_start": today - relativedelta(days=1),
                "date_expiry": today + relativedelta(days=20),
            }
        )
        cls.customer.consume_credits(cls.sms, 7, reference="Replica campaign")

    def test_routes_readonly_flags(self):
        # ir.http.routing_map() reads the database name of the current thread.
        thread = threading.current_thread()
        previous = getattr(thread, "dbname", None)
        thread.dbname = self.env.cr.dbname
        try:
            routing_map = self.env["ir.http"].routing_map()
        finally:
            if previous is None:
                del thread.dbname
            else:
                thread.dbname = previous
        routes = _addon_routes(routing_map)
        self.assertEqual(routes, EXPECTED_ROUTES)

    def test_rpc_readonly_methods(self):
        marked = set()
        for model_name in self.env.registry:
            for cls in type(self.env[model_name]).mro():
                if not cls.__module__.startswith(ADDON_MODULE):
                    continue
                for name, member in vars(cls).items():
                    if inspect.isfunction(member) and getattr(
                        member, "_readonly", False
                    ):
                        marked.add((model_name, name))
        self.assertEqual(marked, EXPECTED_READONLY_METHODS)
        for model_name, method in WRITING_METHODS:
            function = getattr(type(self.env[model_name]), method)
            self.assertFalse(
                getattr(function, "_readonly", False), f"{model_name}.{method}"
            )

    def test_portal_pages_served_read_only(self):
        self.authenticate("replica_portal", "replica_portal")
        # A readonly route that writes makes Odoo log "retrying with a
        # read/write cursor" (odoo.http, WARNING): none may appear.
        with self.assertNoLogs("odoo.http", "WARNING"):
            for path in (
                "/my/installments",
                "/my/installments/page/1",
                f"/my/installments/{self.plan.id}",
                "/my/credits",
                "/my/credits/page/1",
            ):
                response = self.url_open(path)
                self.assertEqual(response.status_code, 200, path)
            self.assertIn("Replica campaign", self.url_open("/my/credits").text)

    def test_rpc_reads_served_read_only(self):
        self.authenticate("admin", "admin")
        with self.assertNoLogs("odoo.http", "WARNING"):
            status = self.make_jsonrpc_request(
                "/web/dataset/call_kw/res.partner/get_credit_status",
                {
                    "model": "res.partner",
                    "method": "get_credit_status",
                    "args": [[self.customer.id]],
                    "kwargs": {},
                },
            )
            self.assertEqual(
                [(row["credit_type_code"], row["remaining"]) for row in status],
                [("replica_sms", 13.0)],
            )
            action = self.make_jsonrpc_request(
                "/web/dataset/call_button/installment.plan/action_open_invoice",
                {
                    "model": "installment.plan",
                    "method": "action_open_invoice",
                    "args": [[self.plan.id]],
                    "kwargs": {},
                },
            )
            self.assertEqual(action["res_id"], self.plan.move_id.id)
