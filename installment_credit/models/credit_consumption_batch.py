# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError

BATCH_MAX_EVENTS = 1000


class BatchRefusal(Exception):
    """One event of a batch refused: ``code`` for machines, ``reason`` for
    people, ``details`` (plain values) for both."""

    def __init__(self, code, reason, **details):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.details = details


class CreditConsumption(models.Model):
    _inherit = "credit.consumption"

    @api.model
    def consume_batch(self, events):
        """Consume a batch of usage events reported by another system.

        :param list events: at most 1,000 dicts ``{customer, credit_type,
            quantity, idempotency_key, date?, reference?, description?}``:
            ``customer`` is a customer id or its ``ref``, ``credit_type`` a
            credit type id or its ``code``, ``date`` a ``YYYY-MM-DD`` text
            (default: today), ``idempotency_key`` a text unique per company
            (required).
        :return: one dict per event, in order, with ``idempotency_key`` and
            ``status``:

            * ``consumed``: ``consumption_id``, ``remaining`` (units of that
              type the customer can still use today);
            * ``duplicate``: the key was already used for the same customer,
              type and quantity; ``consumption_id`` of the first consumption;
            * ``refused``: ``code`` (``invalid_event``, ``unknown_customer``,
              ``unknown_credit_type``, ``invalid_quantity``, ``invalid_date``,
              ``insufficient_units`` with ``requested`` and ``available``,
              ``idempotency_conflict``) and ``reason``; the other events go on.

        Each event follows the rules of ``res.partner.consume_credits`` (FEFO,
        dates, idempotency), shared with it. Set-based: the customers and then
        their usable grants are locked in id order in two statements, the
        allocations are computed in memory and the consumptions and allocation
        rows are inserted with one statement each. Replaying a batch consumes
        nothing more.

        :raises UserError: more than 1,000 events or not a list.
        :raises AccessError: the user is not an Installments & Credits user.
        """
        self._check_ledger_rights()
        if not isinstance(events, (list, tuple)):
            raise UserError(_("Send the events as a list."))
        if len(events) > BATCH_MAX_EVENTS:
            raise UserError(
                _(
                    "A batch holds at most %(max)s events (got %(count)s): split "
                    "it into several calls.",
                    max=BATCH_MAX_EVENTS,
                    count=len(events),
                )
            )
        results = [None] * len(events)
        requests = self._batch_resolve(events, results)
        to_spend = self._batch_deduplicate(events, requests, results)
        self._batch_spend(events, requests, to_spend, results)
        return results

    @api.model
    def _consume_batch_read_committed(self, events):
        """``consume_batch`` as the first work of a fresh transaction (the HTTP
        endpoint opens one), run at READ COMMITTED: a batch that waited for
        another's locks then reads the grants as that one committed them, where
        Odoo's REPEATABLE READ would fail with a serialization error and replay
        the request. The locks (customers, then grants, by id) still make the
        spending of one customer's units one at a time."""
        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        return self.consume_batch(events)

    # ------------------------------------------------------------------
    # The phases of consume_batch; each fills ``results`` for the events it
    # refuses or settles
    # ------------------------------------------------------------------
    @api.model
    def _batch_resolve(self, events, results):
        """Parse the events and resolve their customers and types (one query
        per kind of key); return ``{index: request}`` for the valid ones."""
        requests = {}
        parsed = {}
        for index, event in enumerate(events):
            try:
                parsed[index] = self._batch_parse_event(event)
            except BatchRefusal as refusal:
                results[index] = self._batch_refused(event, refusal)

        customers = self.env["res.partner"]._credit_resolve_customers(
            [values["customer"] for values in parsed.values()]
        )
        types = self.env["credit.type"]._resolve_keys(
            [values["credit_type"] for values in parsed.values()]
        )
        today = fields.Date.context_today(self)
        for index, values in parsed.items():
            try:
                requests[index] = self._batch_request(values, customers, types, today)
            except BatchRefusal as refusal:
                results[index] = self._batch_refused(events[index], refusal)
        return requests

    @api.model
    def _batch_deduplicate(self, events, requests, results):
        """Idempotency: keys used before (one query), then keys repeated in the
        batch itself (the first occurrence wins). Return the indexes still to
        spend (a repeat of an earlier event of the batch is marked
        ``duplicate_of`` it)."""
        Consumption = self.sudo()
        existing = {}
        if requests:
            keys = {request["key"] for request in requests.values()}
            companies = {request["type"].company_id.id for request in requests.values()}
            # Company first: the unique index (company_id, idempotency_key)
            # answers it, however long the ledger.
            for consumption in Consumption.search(
                [
                    ("company_id", "in", list(companies)),
                    ("idempotency_key", "in", list(keys)),
                ]
            ):
                existing[(consumption.company_id.id, consumption.idempotency_key)] = (
                    consumption
                )
        first_of_key = {}
        to_spend = []
        for index, request in requests.items():
            ident = (request["type"].company_id.id, request["key"])
            previous = existing.get(ident)
            if previous:
                error = self._idempotency_conflict(
                    previous, request["partner"], request["type"], request["qty"]
                )
                results[index] = (
                    self._batch_refused(
                        events[index],
                        BatchRefusal("idempotency_conflict", error.args[0]),
                    )
                    if error
                    else self._batch_result(
                        request, "duplicate", consumption_id=previous.id
                    )
                )
                continue
            if ident in first_of_key:
                first = requests[first_of_key[ident]]
                same = (
                    first["partner"] == request["partner"]
                    and not request["type"]._compare(first["qty"], request["qty"])
                    and first["type"] == request["type"]
                )
                if not same:
                    results[index] = self._batch_refused(
                        events[index],
                        BatchRefusal(
                            "idempotency_conflict",
                            _(
                                "Idempotency key %(key)s is used earlier in this "
                                "batch for another request: use a new key.",
                                key=request["key"],
                            ),
                        ),
                    )
                else:
                    request["duplicate_of"] = first_of_key[ident]
                    to_spend.append(index)
                continue
            first_of_key[ident] = index
            to_spend.append(index)
        return to_spend

    @api.model
    def _batch_spend(self, events, requests, to_spend, results):
        """Lock, allocate FEFO in memory, write the ledger in two statements."""
        spending = [requests[i] for i in to_spend if "duplicate_of" not in requests[i]]
        partners = self.env["res.partner"].union(*(r["partner"] for r in spending))
        ctypes = self.env["credit.type"].union(*(r["type"] for r in spending))
        grants = self.env["credit.grant"].sudo()._lock_usable_many(partners, ctypes)

        rows, row_of_index = [], {}
        for index in to_spend:
            request = requests[index]
            if "duplicate_of" in request:
                continue
            ctype, qty, date = request["type"], request["qty"], request["date"]
            pair = grants.get((request["partner"].id, ctype.id), [])
            candidates = [grant for grant in pair if grant[2] <= date]
            available = ctype._round(sum(grant[1] for grant in candidates))
            if ctype._compare(available, qty) < 0:
                error = self._shortage_error(
                    request["partner"], ctype, qty, available, date
                )
                results[index] = self._batch_refused(
                    events[index],
                    BatchRefusal(
                        "insufficient_units",
                        error.args[0],
                        requested=qty,
                        available=available,
                    ),
                )
                continue
            row_of_index[index] = len(rows)
            rows.append(
                {
                    "partner_id": request["partner"].id,
                    "company_id": ctype.company_id.id,
                    "credit_type_id": ctype.id,
                    "quantity": qty,
                    "date": date,
                    "reference": request["reference"],
                    "description": request["description"],
                    "idempotency_key": request["key"],
                    "allocations": self._allocate(ctype, candidates, qty),
                }
            )
            # Units left today after this event, read by the outcome.
            request["remaining"] = ctype._round(sum(grant[1] for grant in pair))
        ids = self.sudo()._write_ledger(rows)

        for index in to_spend:
            request = requests[index]
            if "duplicate_of" in request:
                first = request["duplicate_of"]
                if first in row_of_index:
                    results[index] = self._batch_result(
                        request, "duplicate", consumption_id=ids[row_of_index[first]]
                    )
                else:
                    # The first occurrence was refused: so is this one, alike.
                    results[index] = dict(
                        results[first], idempotency_key=request["key"]
                    )
            elif index in row_of_index:
                results[index] = self._batch_result(
                    request,
                    "consumed",
                    consumption_id=ids[row_of_index[index]],
                    remaining=request["remaining"],
                )
        return results

    # ------------------------------------------------------------------
    # Helpers of consume_batch: parse, resolve, and the outcome dicts
    # ------------------------------------------------------------------
    @api.model
    def _batch_parse_event(self, event):
        """Shape checks of one event (no query)."""
        if not isinstance(event, dict):
            raise BatchRefusal(
                "invalid_event", _("Each event must be an object (got %r).", event)
            )
        key = event.get("idempotency_key")
        if not isinstance(key, str) or not key.strip() or len(key) > 255:
            raise BatchRefusal(
                "invalid_event",
                _(
                    "Each event needs an idempotency_key: a text of 1 to 255 "
                    "characters, unique per company."
                ),
            )
        for name in ("customer", "credit_type"):
            value = event.get(name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, str))
                or (value == "")
            ):
                raise BatchRefusal(
                    "invalid_event",
                    _(
                        "%(field)s must be an id or a text key (got %(value)r).",
                        field=name,
                        value=value,
                    ),
                )
        quantity = event.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)):
            raise BatchRefusal(
                "invalid_quantity",
                _("quantity must be a number (got %r).", quantity),
            )
        for name in ("reference", "description", "date"):
            value = event.get(name)
            if value is not None and value is not False and not isinstance(value, str):
                raise BatchRefusal(
                    "invalid_event",
                    _(
                        "%(field)s must be a text (got %(value)r).",
                        field=name,
                        value=value,
                    ),
                )
        return event

    @api.model
    def _batch_request(self, event, customers, types, today):
        """Resolve and validate one event with the shared rules."""
        customer = customers.get(event["customer"], False)
        if customer is None:
            raise BatchRefusal(
                "unknown_customer",
                _(
                    "Several customers have the reference %(ref)s: give the "
                    "customer's id.",
                    ref=event["customer"],
                ),
            )
        if not customer:
            raise BatchRefusal(
                "unknown_customer",
                _("No customer %(key)r found.", key=event["customer"]),
            )
        ctype = types.get(event["credit_type"])
        if not ctype:
            raise BatchRefusal(
                "unknown_credit_type",
                _("No credit type %(key)r found.", key=event["credit_type"]),
            )
        # The checks of _consume_check, each refusal with its code.
        try:
            self._consume_check_type(ctype)
        except UserError as error:
            raise BatchRefusal("unknown_credit_type", error.args[0]) from error
        try:
            ctype._check_quantity(event["quantity"])
        except UserError as error:
            raise BatchRefusal("invalid_quantity", error.args[0]) from error
        try:
            date = self._consume_check_date(event.get("date"), today)
        except UserError as error:
            raise BatchRefusal("invalid_date", error.args[0]) from error
        qty = ctype._round(event["quantity"])
        return {
            "partner": customer,
            "type": ctype,
            "qty": qty,
            "date": date,
            "key": event["idempotency_key"],
            "reference": event.get("reference") or None,
            "description": event.get("description") or None,
        }

    @api.model
    def _batch_result(self, request, status, **values):
        return {"idempotency_key": request["key"], "status": status, **values}

    @api.model
    def _batch_refused(self, event, refusal):
        key = event.get("idempotency_key") if isinstance(event, dict) else None
        return {
            "idempotency_key": key if isinstance(key, str) else None,
            "status": "refused",
            "code": refusal.code,
            "reason": refusal.reason,
            **refusal.details,
        }
