# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``/api/credits/v1``: usage events in batches, balances. Thin JSON wrappers
over ``credit.consumption.consume_batch`` and ``res.partner.get_credit_status``,
acting as the user of the API key (``Authorization: Bearer <key>``)."""

from odoo import fields, http
from odoo.http import request

from ..models.credit_consumption_batch import BATCH_MAX_EVENTS
from .api_common import ApiError, api_route, json_response, read_json_body


def _consume_read_committed(events):
    """Run ``consume_batch`` in a transaction of its own at READ COMMITTED.

    Batches of the same customers wait for each other's locks (customers, then
    grants, by id). Odoo's REPEATABLE READ took the request's snapshot before
    that wait, so the grants the first batch updated were "concurrently
    updated" for the second: a serialization failure, and Odoo replayed the
    whole request after sleeping up to 2, 4, 8 s. At READ COMMITTED the locked
    reads (``FOR UPDATE``) return the latest committed grants, which is what
    the allocation needs: nothing is replayed and nothing can be overdrawn
    (the locks still serialize the spending of one customer's units). The
    transaction is committed before the answer is sent. Under the test
    framework (one shared transaction) the request's cursor is used."""
    registry = request.env.registry
    if registry.in_test_mode():
        return request.env["credit.consumption"].consume_batch(events)
    with registry.cursor() as cr:
        return request.env(cr=cr)["credit.consumption"]._consume_batch_read_committed(
            events
        )


class CreditApi(http.Controller):
    @api_route("/api/credits/v1/consumptions", methods=["POST"])
    def consumptions(self, **_kwargs):
        body = read_json_body()
        events = body.get("events")
        if not isinstance(events, list) or not events:
            raise ApiError(
                400,
                "invalid_request",
                "'events' must be a non-empty list of usage events.",
                field="events",
            )
        if len(events) > BATCH_MAX_EVENTS:
            raise ApiError(
                413,
                "batch_too_large",
                f"A batch holds at most {BATCH_MAX_EVENTS} events (got "
                f"{len(events)}): split it into several calls.",
                max_events=BATCH_MAX_EVENTS,
            )
        return json_response({"results": _consume_read_committed(events)})

    @api_route(
        "/api/credits/v1/customers/<string:customer>/balance",
        methods=["GET"],
        readonly=True,
    )
    def balance(self, customer, date=None, **_kwargs):
        key = customer
        if customer.isdigit():
            key = int(customer)
        elif customer.startswith("ref:"):
            key = customer[4:]
        Partner = request.env["res.partner"]
        partner = Partner._credit_resolve_customers([key]).get(key, False)
        if partner is None:
            raise ApiError(
                409,
                "ambiguous_customer",
                f"Several customers have the reference {key!r}: use the id.",
            )
        if not partner:
            raise ApiError(404, "not_found", f"No customer {customer!r} found.")
        try:
            on = fields.Date.to_date(date) or fields.Date.context_today(partner)
        except ValueError as error:
            raise ApiError(
                400,
                "invalid_request",
                f"date {date!r} is not YYYY-MM-DD.",
                field="date",
            ) from error
        status = partner.get_credit_status(date=on)
        return json_response(
            {
                "customer": {
                    "id": partner.id,
                    "name": partner.name,
                    "ref": partner.ref or None,
                },
                "date": str(on),
                "balances": [
                    {
                        key: (value if value is not False else None)
                        for key, value in row.items()
                    }
                    for row in status
                ],
            }
        )
