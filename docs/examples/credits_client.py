#!/usr/bin/env python3
"""A minimal client of the installment_credit JSON API, using only `requests`.

    python3 credits_client.py --url http://localhost:8069 --key <API key> \
        --customer CUST-001 --credit-type sms [--invoice 42]

It reports three usage events in one batch, replays the batch (nothing is
consumed twice: same idempotency keys), reads the customer's balance and,
with --invoice, splits that posted invoice into 3 monthly installments.
Create the API key in Odoo: Preferences > Account Security > New API Key.
"""

import argparse
import sys
import uuid

import requests


class CreditsClient:
    def __init__(self, url, key, timeout=30):
        self.url = url.rstrip("/")
        self.session = requests.Session()  # keep-alive between calls
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout

    def _call(self, method, path, body=None):
        response = self.session.request(
            method, self.url + path, json=body, timeout=self.timeout
        )
        data = response.json()
        if response.status_code >= 400:
            raise RuntimeError(
                f"{method} {path}: HTTP {response.status_code} "
                f"{data.get('error')}: {data.get('message')}"
            )
        return data

    def consume(self, events):
        """Send up to 1,000 usage events; one result per event, in order."""
        return self._call("POST", "/api/credits/v1/consumptions", {"events": events})[
            "results"
        ]

    def balance(self, customer):
        return self._call("GET", f"/api/credits/v1/customers/{customer}/balance")

    def create_plan(self, invoice_id, **schedule):
        return self._call(
            "POST", f"/api/installments/v1/invoices/{invoice_id}/plan", schedule
        )


def summary(results):
    counts = {"consumed": 0, "duplicate": 0, "refused": 0}
    for result in results:
        counts[result["status"]] += 1
    return ", ".join(f"{status}: {count}" for status, count in counts.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--customer", required=True, help="customer id or ref")
    parser.add_argument("--credit-type", required=True, help="credit type code")
    parser.add_argument("--invoice", type=int, help="posted invoice to split")
    parser.add_argument("--first-due-date", default="2026-02-15")
    args = parser.parse_args()

    client = CreditsClient(args.url, args.key)
    customer = int(args.customer) if args.customer.isdigit() else args.customer
    run = uuid.uuid4().hex[:8]
    events = [
        {
            "customer": customer,
            "credit_type": args.credit_type,
            "quantity": quantity,
            "idempotency_key": f"example-{run}-{n}",
            "reference": f"example event {n}",
        }
        for n, quantity in enumerate((1, 2, 3), start=1)
    ]
    results = client.consume(events)
    print(summary(results))
    for result in results:
        if result["status"] == "refused":
            print(f"  {result['idempotency_key']}: {result['reason']}")
    # A retry after a timeout sends the same keys: nothing is consumed twice.
    print("replay:", summary(client.consume(events)))

    ref = customer if isinstance(customer, int) else f"ref:{customer}"
    for row in client.balance(ref)["balances"]:
        label = row["credit_type_code"] or row["credit_type_name"]
        print(f"remaining {label}: {row['remaining']:g} {row['unit']}")

    if args.invoice:
        plan = client.create_plan(
            args.invoice,
            count=3,
            interval_unit="month",
            first_due_date=args.first_due_date,
        )
        print(f"plan: {len(plan['installments'])} installments")
        for line in plan["installments"]:
            print(f"  {line['due_date']}  {line['amount']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
