"""The service methods through Odoo's external RPC endpoints of the running
test server (XML-RPC /xmlrpc/2/object and JSON-RPC /jsonrpc, execute_kw), as
an integrator calls them: ids in, plain values out, dates as ISO strings."""

import json
import xmlrpc.client

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import mute_logger

from .api_common import ApiHttpCommon


@tagged("post_install", "-at_install")
class TestApiRpc(ApiHttpCommon):
    def _xmlrpc(self, model, method, args, kwargs=None, user=None, key=None):
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            (user or self.user).id,
            key or self.key,
            model,
            method,
            args,
            kwargs or {},
        )

    def _jsonrpc(self, model, method, args, kwargs=None):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    self.user.id,
                    self.key,
                    model,
                    method,
                    args,
                    kwargs or {},
                ],
            },
        }
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    @freeze_time("2026-01-15")
    def test_consume_credits_returns_an_id(self):
        consumption_id = self._xmlrpc(
            "res.partner",
            "consume_credits",
            [[self.customer.id], "api_sms", 5],
            {"idempotency_key": "rpc-1", "date": "2026-01-10", "reference": "rpc"},
        )
        self.assertIsInstance(consumption_id, int)
        # The retry of a client that did not see the answer: the same id.
        again = self._xmlrpc(
            "res.partner",
            "consume_credits",
            [[self.customer.id], self.sms.id, 5],
            {"idempotency_key": "rpc-1"},
        )
        self.assertEqual(again, consumption_id)
        consumption = self.env["credit.consumption"].browse(consumption_id)
        self.assertEqual(str(consumption.date), "2026-01-10")
        self.assertEqual(consumption.reference, "rpc")
        # Odoo logs a refused RPC call as a warning: expected here.
        with self.assertRaises(xmlrpc.client.Fault) as fault, mute_logger("odoo.http"):
            self._xmlrpc(
                "res.partner", "consume_credits", [[self.customer.id], "api_sms", 500]
            )
        self.assertIn(
            "500 SMS requested, 95 SMS available", fault.exception.faultString
        )
        answer = self._jsonrpc(
            "res.partner",
            "consume_credits",
            [[self.customer.id], "api_sms", 3],
            {"idempotency_key": "rpc-2"},
        )
        self.assertIsInstance(answer["result"], int)
        self.env.invalidate_all()
        self.assertEqual(self.grant.quantity_remaining, 92)

    @freeze_time("2026-01-15")
    def test_batch_and_status(self):
        events = [
            {
                "customer": "API-CUST",
                "credit_type": "api_sms",
                "quantity": 10,
                "idempotency_key": f"rpc-b{i}",
            }
            for i in range(3)
        ]
        results = self._xmlrpc("credit.consumption", "consume_batch", [events])
        self.assertEqual([r["status"] for r in results], ["consumed"] * 3)
        self.assertEqual(results[-1]["remaining"], 70)
        replay = self._jsonrpc("credit.consumption", "consume_batch", [events])
        self.assertEqual([r["status"] for r in replay["result"]], ["duplicate"] * 3)
        status = self._xmlrpc(
            "res.partner",
            "get_credit_status",
            [[self.customer.id]],
            {"date": "2026-01-20"},
        )
        [row] = [r for r in status if r["credit_type_id"] == self.sms.id]
        self.assertEqual(row["remaining"], 70)
        self.assertEqual(row["next_expiry"], "2026-03-01")
        self.assertEqual(row["credit_type_code"], "api_sms")
        # Odoo logs a refused RPC call as a warning: expected here.
        with self.assertRaises(xmlrpc.client.Fault) as fault, mute_logger("odoo.http"):
            self._xmlrpc(
                "credit.consumption",
                "consume_batch",
                [events],
                user=self.low_user,
                key=self.low_key,
            )
        self.assertIn("Installments & Credits users", fault.exception.faultString)

    @freeze_time("2026-01-15")
    def test_add_and_delete_installments_over_rpc(self):
        """Issue 18, point 5: the model path of the plan form's list."""
        plan_id = self._xmlrpc(
            "account.move",
            "create_installment_plan",
            [[self.invoice.id]],
            {"count": 2, "first_due_date": "2026-02-02"},
        )
        line_id = self._xmlrpc(
            "installment.plan", "add_installment", [[plan_id], "2026-04-02", 50.0]
        )
        self.assertIsInstance(line_id, int)
        plan = self.env["installment.plan"].browse(plan_id)
        self.assertEqual(
            [(str(line.due_date), line.amount) for line in plan.line_ids.sorted()],
            [("2026-02-02", 125.0), ("2026-03-02", 125.0), ("2026-04-02", 50.0)],
        )
        first = plan.line_ids.sorted()[0]
        self._xmlrpc("installment.plan.line", "unlink", [[first.id]])
        self.env.invalidate_all()
        self.assertEqual(
            [(str(line.due_date), line.amount) for line in plan.line_ids.sorted()],
            [("2026-03-02", 250.0), ("2026-04-02", 50.0)],
        )

    @freeze_time("2026-01-15")
    def test_create_installment_plan_with_iso_dates(self):
        plan_id = self._xmlrpc(
            "account.move",
            "create_installment_plan",
            [[self.invoice.id]],
            {"lines": [["2026-02-01", 100.0], ["2026-03-01", 200.0]]},
        )
        self.assertIsInstance(plan_id, int)
        plan = self.env["installment.plan"].browse(plan_id)
        self.assertEqual(
            [(str(line.due_date), line.amount) for line in plan.line_ids.sorted()],
            [("2026-02-01", 100.0), ("2026-03-01", 200.0)],
        )
        # Odoo logs a refused RPC call as a warning: expected here.
        with self.assertRaises(xmlrpc.client.Fault) as fault, mute_logger("odoo.http"):
            self._xmlrpc(
                "account.move",
                "create_installment_plan",
                [[self.invoice.id]],
                {"count": 3, "first_due_date": "2026-02-01"},
            )
        self.assertIn("already has an installment plan", fault.exception.faultString)
