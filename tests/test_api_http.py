"""The JSON HTTP API (/api/credits/v1, /api/installments/v1) through the real
test server, with a plain HTTP client and Odoo user API keys."""

import json
import os
import re
import subprocess
import sys

from freezegun import freeze_time

from odoo import http
from odoo.tests import tagged

from .api_common import ApiHttpCommon

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@tagged("post_install", "-at_install")
class TestApiHttp(ApiHttpCommon):
    def _call(self, method, path, body=None, key=None, raw=None):
        headers = {"Content-Type": "application/json"}
        if key is not False:
            headers["Authorization"] = f"Bearer {key or self.key}"
        data = raw if raw is not None else (json.dumps(body) if body else None)
        if method == "GET":
            response = self.url_open(path, headers=headers)
        else:
            response = self.url_open(path, data=data or "", headers=headers)
        self.assertIn("application/json", response.headers.get("Content-Type", ""))
        return response.status_code, response.json()

    def _events(self, *specs):
        return {
            "events": [
                {
                    "customer": customer,
                    "credit_type": "api_sms",
                    "quantity": quantity,
                    "idempotency_key": key,
                }
                for key, quantity, customer in specs
            ]
        }

    @freeze_time("2026-01-15")
    def test_batch_replay_and_balance(self):
        url = "/api/credits/v1/consumptions"
        batch = self._events(
            ("h1", 30, self.customer.id), ("h2", 20, "API-CUST"), ("h3", 80, "API-CUST")
        )
        status, answer = self._call("POST", url, batch)
        self.assertEqual(status, 200)
        results = answer["results"]
        self.assertEqual(
            [(r["idempotency_key"], r["status"]) for r in results],
            [("h1", "consumed"), ("h2", "consumed"), ("h3", "refused")],
        )
        self.assertEqual([r.get("remaining") for r in results[:2]], [70, 50])
        self.assertEqual(results[2]["code"], "insufficient_units")
        self.assertEqual((results[2]["requested"], results[2]["available"]), (80, 50))
        # Replaying the whole batch consumes nothing more.
        status, again = self._call("POST", url, batch)
        self.assertEqual(status, 200)
        self.assertEqual(
            [r["status"] for r in again["results"]],
            ["duplicate", "duplicate", "refused"],
        )
        self.assertEqual(
            again["results"][0]["consumption_id"], results[0]["consumption_id"]
        )
        self.env.invalidate_all()
        self.assertEqual(self.grant.quantity_remaining, 50)
        for key in (self.customer.id, "ref:API-CUST", "API-CUST"):
            status, balance = self._call(
                "GET", f"/api/credits/v1/customers/{key}/balance"
            )
            self.assertEqual(status, 200)
            self.assertEqual(balance["customer"]["id"], self.customer.id)
            self.assertEqual(balance["date"], "2026-01-15")
            [row] = [
                b for b in balance["balances"] if b["credit_type_code"] == "api_sms"
            ]
            self.assertEqual(row["remaining"], 50)
            self.assertEqual(row["next_expiry"], "2026-03-01")
            self.assertEqual(row["consumed_this_month"], 50)
        status, balance = self._call(
            "GET",
            f"/api/credits/v1/customers/{self.customer.id}/balance?date=2026-02-28",
        )
        self.assertEqual((status, balance["date"]), (200, "2026-02-28"))

    @freeze_time("2026-01-15")
    def test_errors_are_json_with_status(self):
        url = "/api/credits/v1/consumptions"
        one = self._events(("e1", 1, self.customer.id))
        status, answer = self._call("POST", url, one, key=False)
        self.assertEqual((status, answer["error"]), (401, "unauthorized"))
        self.assertIn("Authorization: Bearer", answer["message"])
        status, answer = self._call("POST", url, one, key="not-a-key")
        self.assertEqual(status, 401)
        status, answer = self._call("POST", url, one, key=self.low_key)
        self.assertEqual((status, answer["error"]), (403, "forbidden"))
        status, answer = self._call("POST", url, raw="{not json")
        self.assertEqual((status, answer["error"]), (400, "invalid_json"))
        status, answer = self._call("POST", url, {"events": "x"})
        self.assertEqual((status, answer["field"]), (400, "events"))
        big = self._events(*((f"b{i}", 1, self.customer.id) for i in range(1001)))
        status, answer = self._call("POST", url, big)
        self.assertEqual((status, answer["error"]), (413, "batch_too_large"))
        status, answer = self._call("GET", "/api/credits/v1/customers/999999/balance")
        self.assertEqual((status, answer["error"]), (404, "not_found"))
        status, answer = self._call("GET", "/api/credits/v1/customers/NOPE/balance")
        self.assertEqual(status, 404)
        status, answer = self._call(
            "GET",
            f"/api/credits/v1/customers/{self.customer.id}/balance?date=2026-13-01",
        )
        self.assertEqual((status, answer["field"]), (400, "date"))
        status, answer = self._call("GET", url)
        self.assertEqual(status, 405)
        status, answer = self._call("GET", "/api/credits/v1/nothing-here")
        self.assertEqual((status, answer["error"]), (404, "not_found"))
        self.env.invalidate_all()
        self.assertEqual(self.grant.quantity_remaining, 100)
        self.assertFalse(
            self.env["credit.consumption"].search(
                [("partner_id", "=", self.customer.id)]
            )
        )

    @freeze_time("2026-01-15")
    def test_plan_create_read_conflict(self):
        url = f"/api/installments/v1/invoices/{self.invoice.id}/plan"
        status, answer = self._call("GET", url)
        self.assertEqual(status, 404)
        status, answer = self._call("POST", url, {"count": "three"})
        self.assertEqual((status, answer["field"]), (400, "count"))
        status, answer = self._call("POST", url, {"count": 3, "first_due_date": "bad"})
        self.assertEqual((status, answer["error"]), (400, "invalid_request"))
        self.assertIn("YYYY-MM-DD", answer["message"])
        lines = [
            {"due_date": "2026-02-01", "amount": 100},
            {"due_date": "2026-03-01", "amount": 200},
        ]
        # a manual schedule with a generated mode's argument: refused, named
        status, answer = self._call("POST", url, {"lines": lines, "count": 3})
        self.assertEqual((status, answer["error"]), (400, "invalid_request"))
        self.assertIn("leave out count", answer["message"])
        status, answer = self._call("POST", url, {"lines": lines})
        self.assertEqual(status, 201, answer)
        self.assertEqual(
            [(i["due_date"], i["amount"]) for i in answer["installments"]],
            [("2026-02-01", 100), ("2026-03-01", 200)],
        )
        status, read = self._call("GET", url)
        self.assertEqual((status, read["id"]), (200, answer["id"]))
        self.assertEqual(read["amount_total"], 300)
        status, again = self._call(
            "POST", url, {"count": 3, "first_due_date": "2026-02-01"}
        )
        self.assertEqual((status, again["error"]), (409, "plan_exists"))
        status, answer = self._call("GET", "/api/installments/v1/invoices/999999/plan")
        self.assertEqual(status, 404)
        status, answer = self._call("GET", url, key=self.low_key)
        self.assertEqual(status, 403)
        self.env.invalidate_all()
        self.assertEqual(len(self.invoice.installment_plan_ids), 1)

    @freeze_time("2026-01-15")
    def test_plan_with_amount_and_count(self):
        """Issue 18, point 7: both are used; a difference is refused unless
        the last installment may take it."""
        url = f"/api/installments/v1/invoices/{self.invoice.id}/plan"
        body = {"count": 2, "installment_amount": 100, "first_due_date": "2026-02-02"}
        status, answer = self._call("POST", url, body)
        self.assertEqual((status, answer["error"]), (400, "invalid_request"))
        self.assertIn("remainder='last'", answer["message"])
        status, answer = self._call("POST", url, {**body, "remainder": 1})
        self.assertEqual((status, answer["field"]), (400, "remainder"))
        status, answer = self._call("POST", url, {**body, "remainder": "last"})
        self.assertEqual(status, 201, answer)
        self.assertEqual(
            [(i["due_date"], i["amount"]) for i in answer["installments"]],
            [("2026-02-02", 100), ("2026-03-02", 200)],
        )

    def test_openapi_documents_every_route(self):
        """Every route of the API is in docs/openapi.yaml and vice versa."""
        with open(os.path.join(ROOT, "docs", "openapi.yaml"), encoding="utf-8") as f:
            documented, path = set(), None
            for line in f:
                if match := re.match(r"^  (/\S+):\s*$", line):
                    path = match.group(1)
                elif path and (
                    match := re.match(r"^    (get|post|put|delete|patch):", line)
                ):
                    documented.add((match.group(1).upper(), path))
                elif re.match(r"^\S", line):
                    path = None
        served = set()
        modules = self.env.registry._init_modules
        for url, endpoint in http._generate_routing_rules(modules, nodb_only=False):
            if not url.startswith(("/api/credits/", "/api/installments/")):
                continue
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", url)
            for method in endpoint.routing["methods"] or ():
                served.add((method, path))
        self.assertTrue(served)
        self.assertEqual(documented, served)

    @freeze_time("2026-01-15")
    def test_example_client(self):
        """docs/examples/credits_client.py, a plain `requests` client, runs
        against the test server."""
        script = os.path.join(ROOT, "docs", "examples", "credits_client.py")
        result = subprocess.run(
            [
                sys.executable,
                script,
                "--url",
                self.base_url(),
                "--key",
                self.key,
                "--customer",
                "API-CUST",
                "--credit-type",
                "api_sms",
                "--invoice",
                str(self.invoice.id),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr + result.stdout)
        self.assertIn("consumed: 3, duplicate: 0, refused: 0", result.stdout)
        self.assertIn("replay: consumed: 0, duplicate: 3, refused: 0", result.stdout)
        self.assertIn("remaining api_sms: 94", result.stdout)
        self.assertIn("plan: 3 installments", result.stdout)
        self.env.invalidate_all()
        self.assertEqual(self.grant.quantity_remaining, 94)
