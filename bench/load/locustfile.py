"""The production mix, for Locust (headless, run by bench/load/run.py).

Request names end with ``[addon]`` (the add-on's work) or ``[ref]`` (the same
request without it: invoices without plans, Odoo's own portal pages, a native
payment term), so the report can put each next to its reference. Failures are
reported by cause: ``serialization``, ``deadlock``, ``timeout``,
``connection``, ``http <status>``, ``rpc <exception>``.
"""

import itertools
import json
import os
import random
import uuid

from locust import HttpUser, between, task

DATA = json.load(open(os.environ["IC_LOAD_DATA"]))  # noqa: SIM115
TIMEOUT = 60
_drafts = {kind: list(ids) for kind, ids in DATA["drafts"].items()}
_portal = itertools.cycle(DATA["portal"])
_keys = itertools.count()
RUN = uuid.uuid4().hex[:8]


def cause_of(response, body=None):
    """Why a request failed, or None."""
    if (
        response.status_code == 0
        or response.error is not None
        and not (response.status_code)
    ):
        text = str(response.error or "")
        return "timeout" if "timed out" in text.lower() else "connection"
    text = response.text or ""
    for needle, cause in (
        ("could not serialize", "serialization"),
        ("SerializationFailure", "serialization"),
        ("deadlock detected", "deadlock"),
    ):
        if needle in text:
            return cause
    if response.status_code >= 400:
        return f"http {response.status_code}"
    if body is not None and isinstance(body, dict) and body.get("error"):
        data = body["error"].get("data") or {}
        return f"rpc {data.get('name', body['error'].get('message'))}"
    return None


class OdooUser(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)

    def _get(self, path, name):
        with self.client.get(
            path, name=name, catch_response=True, timeout=TIMEOUT
        ) as response:
            cause = cause_of(response)
            if cause:
                response.failure(cause)
            else:
                response.success()

    def _rpc(self, path, params, name):
        with self.client.post(
            path,
            json={"jsonrpc": "2.0", "method": "call", "params": params},
            name=name,
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            try:
                body = response.json()
            except ValueError:
                body = None
            cause = cause_of(response, body)
            if cause:
                response.failure(cause)
                return None
            response.success()
            return body.get("result")

    def _login(self, login, password):
        self._rpc(
            "/web/session/authenticate",
            {"db": DATA["db"], "login": login, "password": password},
            "login",
        )

    def _call(self, model, method, args, kwargs=None, name=None, button=False):
        route = "call_button" if button else "call_kw"
        return self._rpc(
            f"/web/dataset/{route}/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
            name or f"{model}.{method}",
        )


def label(kind):
    return "addon" if kind == "addon" else "ref"


class BackOfficeUser(OdooUser):
    """Opens invoices, registers payments, posts invoices with a term."""

    weight = 3
    SPEC = {
        "name": {},
        "state": {},
        "amount_total": {},
        "amount_residual": {},
        "invoice_date_due": {},
        "payment_state": {},
        "line_ids": {"fields": {"name": {}, "balance": {}, "date_maturity": {}}},
        "installment_plan_id": {
            "fields": {
                "line_ids": {
                    "fields": {
                        "due_date": {},
                        "amount": {},
                        "amount_residual": {},
                        "state": {},
                    }
                }
            }
        },
    }

    def on_start(self):
        self._login("admin", "admin")

    def _open(self, kind):
        move_id = random.choice(DATA["invoices"][kind])
        self._call(
            "account.move",
            "web_read",
            [[move_id]],
            {"specification": self.SPEC},
            name=f"back-office open invoice [{label(kind)}]",
        )

    def _pay(self, kind):
        move_id = random.choice(DATA["invoices"][kind])
        context = {"active_model": "account.move", "active_ids": [move_id]}
        wizard = self._call(
            "account.payment.register",
            "create",
            [{"amount": 1.0, "payment_difference_handling": "open"}],
            {"context": context},
            name=f"back-office payment wizard [{label(kind)}]",
        )
        if wizard:
            self._call(
                "account.payment.register",
                "action_create_payments",
                [[wizard]],
                {"context": context},
                name=f"back-office register payment [{label(kind)}]",
                button=True,
            )

    def _post(self, kind):
        if not _drafts[kind]:
            return
        self._call(
            "account.move",
            "action_post",
            [[_drafts[kind].pop()]],
            name=f"back-office post invoice with term [{label(kind)}]",
            button=True,
        )

    @task(4)
    def open_addon(self):
        self._open("addon")

    @task(4)
    def open_reference(self):
        self._open("reference")

    @task(1)
    def pay_addon(self):
        self._pay("addon")

    @task(1)
    def pay_reference(self):
        self._pay("reference")

    @task(1)
    def post_addon(self):
        self._post("addon")

    @task(1)
    def post_reference(self):
        self._post("reference")


class PortalCustomer(OdooUser):
    """Browses the portal: the add-on's pages and Odoo's own."""

    weight = 4

    def on_start(self):
        self.customer = next(_portal)
        self._login(self.customer["login"], self.customer["login"])

    @task
    def installments(self):
        self._get("/my/installments", "portal /my/installments [addon]")

    @task
    def credits(self):
        self._get("/my/credits", "portal /my/credits [addon]")

    @task
    def invoice_with_plan(self):
        move = random.choice(self.customer["with_plans"])
        self._get(f"/my/invoices/{move['id']}", "portal invoice page [addon]")

    @task
    def invoices(self):
        self._get("/my/invoices", "portal /my/invoices [ref]")

    @task
    def invoice_without_plan(self):
        move = random.choice(self.customer["without_plans"])
        self._get(f"/my/invoices/{move['id']}", "portal invoice page [ref]")


class Integration(HttpUser):
    """Reports usage (single events and batches) and reads balances."""

    weight = 1
    wait_time = between(0.2, 0.6)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {DATA['key']}"
        self.customers = [c["partner_id"] for c in DATA["portal"]]

    def _batch(self, size, name):
        events = [
            {
                "customer": random.choice(self.customers),
                "credit_type": DATA["type_code"],
                "quantity": 1,
                "idempotency_key": f"load-{RUN}-{next(_keys)}",
            }
            for _i in range(size)
        ]
        # A batch whose answer was lost is sent again, same keys: idempotent.
        for attempt in range(3):
            label = name if not attempt else f"{name} (resent)"
            with self.client.post(
                "/api/credits/v1/consumptions",
                json={"events": events},
                name=label,
                catch_response=True,
                timeout=TIMEOUT,
            ) as response:
                cause = cause_of(response)
                if not cause:
                    response.success()
                    return
                response.failure(cause)
                if cause not in ("connection", "timeout", "http 502", "http 503"):
                    return

    @task(3)
    def consume_one(self):
        self._batch(1, "api consume 1 event [addon]")

    @task(1)
    def consume_batch(self):
        self._batch(100, "api consume batch of 100 [addon]")

    @task(2)
    def balance(self):
        customer = random.choice(self.customers)
        with self.client.get(
            f"/api/credits/v1/customers/{customer}/balance",
            name="api balance [addon]",
            catch_response=True,
            timeout=TIMEOUT,
        ) as response:
            cause = cause_of(response)
            if cause:
                response.failure(cause)
            else:
                response.success()
