# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, create_index, format_date

from .credit_type import CREDIT_DIGITS


class CreditConsumption(models.Model):
    """Units spent by a customer: an immutable ledger row whose allocation lines
    say which grant each unit came from."""

    _name = "credit.consumption"
    _description = "Credit consumption"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    credit_type_id = fields.Many2one(
        "credit.type",
        string="Credit type",
        required=True,
        check_company=True,
        readonly=True,
        index=True,
    )
    unit_name = fields.Char(related="credit_type_id.unit_name")
    credit_decimals = fields.Integer(related="credit_type_id.decimal_places")
    quantity = fields.Float(digits=CREDIT_DIGITS, required=True, readonly=True)
    date = fields.Date(required=True, readonly=True, index=True)
    description = fields.Char(readonly=True)
    # What the caller of the service passed, and who reversed: internal
    # bookkeeping, not shown on the portal (which reads it as sudo).
    reference = fields.Char(
        readonly=True, groups="base.group_user", help="Free text given by the caller."
    )
    res_model = fields.Char(
        string="Source model", readonly=True, groups="base.group_user"
    )
    res_id = fields.Many2oneReference(
        string="Source record",
        model_field="res_model",
        readonly=True,
        groups="base.group_user",
    )
    idempotency_key = fields.Char(
        readonly=True,
        copy=False,
        groups="base.group_user",
        help="Key given by the caller: a second call with the same key returns "
        "this consumption and spends nothing more.",
    )
    state = fields.Selection(
        [("done", "Done"), ("reversed", "Reversed")],
        required=True,
        default="done",
        readonly=True,
        index=True,
    )
    date_reversed = fields.Date(string="Reversed on", readonly=True)
    reversed_uid = fields.Many2one(
        "res.users", string="Reversed by", readonly=True, groups="base.group_user"
    )
    allocation_ids = fields.One2many(
        "credit.consumption.allocation",
        "consumption_id",
        string="Allocations",
        readonly=True,
        groups="base.group_user",
    )

    _sql_constraints = [
        (
            "idempotency_key_uniq",
            "unique(company_id, idempotency_key)",
            "This idempotency key was already used in this company.",
        ),
        ("quantity_positive", "CHECK(quantity > 0)", "A consumption spends units."),
    ]

    def init(self):
        # Status and reports read a customer's consumptions of one type by date.
        create_index(
            self._cr,
            "credit_consumption_partner_type_date_index",
            self._table,
            ["partner_id", "credit_type_id", "date"],
        )

    @api.depends("credit_type_id", "quantity", "date")
    def _compute_display_name(self):
        for consumption in self:
            consumption.display_name = _(
                "%(qty)s %(unit)s on %(date)s",
                qty=consumption.quantity,
                unit=consumption.credit_type_id.unit_name or "",
                date=format_date(self.env, consumption.date),
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        raise UserError(
            _("Consumptions are part of the credit ledger: reverse them instead.")
        )

    @api.model
    def _check_ledger_rights(self):
        """Only credit users (or the superuser) may write the ledger."""
        if not self.env.su and not self.env.user.has_group(
            "installment_credit.group_installment_user"
        ):
            raise AccessError(
                _("Only Installments & Credits users can consume or reverse credits.")
            )

    # ------------------------------------------------------------------
    # The one service that spends units (res.partner.consume_credits and
    # consume_batch): the rules are the pieces below, used by both paths
    # ------------------------------------------------------------------
    @api.model
    def _consume_check(self, credit_type, quantity, date, today=None):
        """Validate one request on an existing credit type; return the rounded
        quantity and the date. Reads no table (the batch runs it per event,
        checking the type and the quantity first, see ``_consume_check_type``
        and ``credit.type._check_quantity``, and passing ``today``)."""
        self._consume_check_type(credit_type)
        credit_type._check_quantity(quantity)
        return credit_type._round(quantity), self._consume_check_date(date, today)

    @api.model
    def _consume_check_type(self, credit_type):
        if not credit_type.active:
            raise UserError(
                _(
                    "Credit type %(type)s is archived: its units cannot be consumed.",
                    type=credit_type.name,
                )
            )

    @api.model
    def _consume_check_date(self, date, today=None):
        """The date of a consumption: ``date`` (a date or ``YYYY-MM-DD``) or
        today; never in the future."""
        today = today or fields.Date.context_today(self)
        try:
            date = fields.Date.to_date(date) or today
        except ValueError as error:
            raise UserError(
                _("%(date)r is not a date: use YYYY-MM-DD.", date=date)
            ) from error
        if date > today:
            raise UserError(
                _(
                    "A consumption dated %(date)s is in the future (today is "
                    "%(today)s): record it on the day the units are used.",
                    date=format_date(self.env, date),
                    today=format_date(self.env, today),
                )
            )
        return date

    @api.model
    def _idempotency_conflict(self, existing, partner, credit_type, quantity):
        """The error when ``existing`` (same company and key) is another
        request than (partner, type, quantity), else None."""
        if (
            existing.partner_id == partner
            and existing.credit_type_id == credit_type
            and not credit_type._compare(existing.quantity, quantity)
        ):
            return None
        return UserError(
            _(
                "Idempotency key %(key)s was already used for %(qty)s %(unit)s "
                "of %(type)s for %(partner)s: this is a different request, use a "
                "new key.",
                key=existing.idempotency_key,
                qty=existing.credit_type_id._format(existing.quantity),
                unit=existing.credit_type_id.unit_name,
                type=existing.credit_type_id.name,
                partner=existing.partner_id.display_name,
            )
        )

    @api.model
    def _shortage_error(self, partner, credit_type, quantity, available, date):
        return UserError(
            _(
                "Not enough %(type)s for %(partner)s: %(requested)s %(unit)s "
                "requested, %(available)s %(unit)s available on %(date)s.",
                type=credit_type.name,
                partner=partner.display_name,
                requested=credit_type._format(quantity),
                available=credit_type._format(available),
                unit=credit_type.unit_name,
                date=format_date(self.env, date),
            )
        )

    @api.model
    def _allocate(self, credit_type, candidates, quantity):
        """FEFO allocation in memory: ``candidates`` are ``[grant_id,
        remaining]`` lists of locked grants in FEFO order (nearest expiry, then
        oldest start, then id); take ``quantity`` from them, decrease their
        remaining in place and return ``[(grant_id, quantity)]``."""
        allocations = []
        to_allocate = quantity
        first = candidates[0] if candidates else None
        if first and credit_type._compare(first[1], quantity) >= 0:
            # The usual case: the nearest-expiry grant holds all of it.
            first[1] = credit_type._round(first[1] - quantity)
            return [(first[0], quantity)]
        for candidate in candidates:
            if credit_type._compare(to_allocate, 0.0) <= 0:
                break
            take = credit_type._round(min(candidate[1], to_allocate))
            if credit_type._compare(take, 0.0) <= 0:
                continue
            allocations.append((candidate[0], take))
            candidate[1] = credit_type._round(candidate[1] - take)
            to_allocate = credit_type._round(to_allocate - take)
        if credit_type._compare(to_allocate, 0.0):
            # The caller checked the availability: the invariant of the ledger.
            raise UserError(
                _(
                    "Internal error: %(qty)s %(unit)s could not be allocated.",
                    qty=credit_type._format(to_allocate),
                    unit=credit_type.unit_name,
                )
            )
        return allocations

    @api.model
    def _write_ledger(self, rows):
        """Insert consumptions and their allocations, one statement each.

        ``rows``: dicts with ``partner_id``, ``company_id``, ``credit_type_id``,
        ``quantity``, ``date`` and optionally ``description``, ``reference``,
        ``res_model``, ``res_id``, ``idempotency_key``, plus ``allocations``
        (``[(grant_id, quantity)]``). Returns the new ids in the order of
        ``rows``. The touched grants' stored totals are brought forward with
        what this statement allocates (one update, see below) and their
        states recomputed by the ORM."""
        if not rows:
            return []
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT nextval('credit_consumption_id_seq') "
                "FROM generate_series(1, %s)",
                len(rows),
            )
        )
        ids = [row[0] for row in cr.fetchall()]
        now, uid = cr.now(), self.env.uid

        def column(name):
            return [row.get(name) or None for row in rows]

        cr.execute(
            SQL(
                """
                INSERT INTO credit_consumption
                       (id, partner_id, company_id, credit_type_id, quantity, date,
                        description, reference, res_model, res_id, idempotency_key,
                        state, create_uid, create_date, write_uid, write_date)
                SELECT u.id, u.partner_id, u.company_id, u.type_id, u.quantity,
                       u.date, u.description, u.reference, u.res_model, u.res_id,
                       u.key, 'done', %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(ids)s::int[], %(partners)s::int[],
                              %(companies)s::int[], %(types)s::int[],
                              %(quantities)s::numeric[], %(dates)s::date[],
                              %(descriptions)s::varchar[], %(references)s::varchar[],
                              %(models)s::varchar[], %(res_ids)s::int[],
                              %(keys)s::varchar[])
                       AS u(id, partner_id, company_id, type_id, quantity, date,
                            description, reference, res_model, res_id, key)
                """,
                uid=uid,
                now=now,
                ids=ids,
                partners=column("partner_id"),
                companies=column("company_id"),
                types=column("credit_type_id"),
                quantities=column("quantity"),
                dates=column("date"),
                descriptions=column("description"),
                references=column("reference"),
                models=column("res_model"),
                res_ids=column("res_id"),
                keys=column("idempotency_key"),
            )
        )
        allocations = [
            (consumption_id, grant_id, quantity, row["company_id"], row["date"])
            for consumption_id, row in zip(ids, rows, strict=True)
            for grant_id, quantity in row["allocations"]
        ]
        # The grants' stored totals must be current before this statement's
        # allocations are added to them (nothing pending from earlier in the
        # transaction): they are the sums of the allocations written so far.
        self.env["credit.grant"].flush_model()
        cr.execute(
            SQL(
                """
                INSERT INTO credit_consumption_allocation
                       (consumption_id, grant_id, quantity, state, company_id, date,
                        create_uid, create_date, write_uid, write_date)
                SELECT u.consumption_id, u.grant_id, u.quantity, 'done',
                       u.company_id, u.date, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(consumptions)s::int[], %(grants)s::int[],
                              %(quantities)s::numeric[], %(companies)s::int[],
                              %(dates)s::date[])
                       AS u(consumption_id, grant_id, quantity, company_id, date)
                """,
                uid=uid,
                now=now,
                consumptions=[a[0] for a in allocations],
                grants=[a[1] for a in allocations],
                quantities=[a[2] for a in allocations],
                companies=[a[3] for a in allocations],
                dates=[a[4] for a in allocations],
            )
        )
        # What the ORM may hold about the rows written behind its back.
        self.env["credit.grant"].invalidate_model(["allocation_ids"])
        self.env["res.partner"].invalidate_model(["credit_consumption_ids"])
        # A grant's consumed quantity is the sum of its done allocations (see
        # credit.grant._compute_quantities). Re-summing the whole ledger of a
        # grant consumed unit by unit costs more with every unit; the stored
        # sum plus what this statement allocated is the same number, written
        # in one update for all touched grants (they are locked: no other
        # transaction adds to them meanwhile). Reversals, credit notes and
        # withdrawals still go through the ORM's full recompute.
        cr.execute(
            SQL(
                """
                UPDATE credit_grant g
                   SET quantity_consumed = COALESCE(g.quantity_consumed, 0)
                                           + added.quantity,
                       quantity_remaining = ROUND(
                           (g.quantity - COALESCE(g.quantity_consumed, 0)
                            - added.quantity - COALESCE(g.quantity_cancelled, 0))
                           / ctype.rounding
                       ) * ctype.rounding,
                       write_uid = %(uid)s,
                       write_date = %(now)s
                  FROM (SELECT a.grant_id, SUM(a.quantity) AS quantity
                          FROM unnest(%(grants)s::int[], %(quantities)s::numeric[])
                               AS a(grant_id, quantity)
                      GROUP BY a.grant_id) added,
                       credit_type ctype
                 WHERE g.id = added.grant_id AND ctype.id = g.credit_type_id
                """,
                uid=uid,
                now=now,
                grants=[a[1] for a in allocations],
                quantities=[a[2] for a in allocations],
            )
        )
        Grant = self.env["credit.grant"]
        grants = Grant.browse({a[1] for a in allocations})
        totals = ["quantity_consumed", "quantity_remaining"]
        grants.invalidate_recordset(totals)
        # What depends on the totals (the state: exhausted) is recomputed.
        grants.modified(totals)
        for name in totals:
            self.env.remove_to_compute(Grant._fields[name], grants)
        grants.flush_recordset()
        return ids

    @api.model
    def _consume(
        self,
        partner,
        credit_type,
        quantity,
        reference=None,
        idempotency_key=None,
        date=None,
        description=None,
    ):
        """Spend ``quantity`` units of ``credit_type`` for ``partner``, first
        expiring first (see ``res.partner.consume_credits``)."""
        self._check_ledger_rights()
        partner = partner.commercial_partner_id
        partner.ensure_one()
        if isinstance(credit_type, (int, str)) and not isinstance(credit_type, bool):
            credit_type = (
                self.env["credit.type"]
                ._resolve_keys([credit_type])
                .get(credit_type, self.env["credit.type"])
            )
        credit_type = credit_type.with_context(active_test=False).exists()
        if len(credit_type) != 1:
            raise UserError(
                _(
                    "Give exactly one existing credit type to consume (its id or "
                    "its code)."
                )
            )
        quantity, date = self._consume_check(credit_type, quantity, date)
        company = credit_type.company_id
        # The caller's rights were checked above (group, and record rules while
        # reading the type and the partner); the ledger itself is read-only.
        Consumption = self.env["credit.consumption"].sudo()

        if idempotency_key:
            existing = Consumption.search(
                [
                    ("company_id", "=", company.id),
                    ("idempotency_key", "=", idempotency_key),
                ],
                limit=1,
            )
            if existing:
                error = self._idempotency_conflict(
                    existing, partner, credit_type, quantity
                )
                if error:
                    raise error
                return self.env["credit.consumption"].browse(existing.id)

        Grant = self.env["credit.grant"].sudo()
        grants, available = Grant._lock_fefo(
            partner, credit_type, company, date, quantity
        )
        if credit_type._compare(available, quantity) < 0:
            if not grants and not Grant.search_count(
                [
                    ("partner_id", "=", partner.id),
                    ("credit_type_id", "=", credit_type.id),
                ],
                limit=1,
            ):
                raise UserError(
                    _(
                        "%(partner)s has no %(type)s credits: sell them a package "
                        "first.",
                        partner=partner.display_name,
                        type=credit_type.name,
                    )
                )
            raise self._shortage_error(partner, credit_type, quantity, available, date)

        candidates = [[grant.id, grant.quantity_remaining] for grant in grants]
        row = {
            "partner_id": partner.id,
            "company_id": company.id,
            "credit_type_id": credit_type.id,
            "quantity": quantity,
            "date": date,
            "description": description,
            "idempotency_key": idempotency_key,
            "allocations": self._allocate(credit_type, candidates, quantity),
        }
        if isinstance(reference, models.BaseModel):
            reference.ensure_one()
            row.update(
                reference=reference.display_name,
                res_model=reference._name,
                res_id=reference.id,
            )
        else:
            row["reference"] = reference
        [consumption_id] = Consumption._write_ledger([row])
        return self.env["credit.consumption"].browse(consumption_id)

    def action_reverse(self):
        """Give the units of these consumptions back to the grants they came from.

        Grants that expired since stay expired: the units come back as expired
        (breakage grows). The consumption stays in the ledger as ``reversed``."""
        self._check_ledger_rights()
        # Reading the state checks the caller's access to these records.
        if any(c.state != "done" for c in self):
            raise UserError(_("Only consumptions in state Done can be reversed."))
        # The one lock order: partners, then grants, by id.
        self.sudo().allocation_ids.grant_id._lock_for_update()
        self.sudo().write(
            {
                "state": "reversed",
                "date_reversed": fields.Date.context_today(self),
                "reversed_uid": self.env.uid,
            }
        )
        return True

    @api.readonly
    def action_open_source(self):
        self.ensure_one()
        if not (self.res_model and self.res_id):
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }


class CreditConsumptionAllocation(models.Model):
    _name = "credit.consumption.allocation"
    _description = "Credit consumption allocation"
    _order = "consumption_id, id"

    consumption_id = fields.Many2one(
        "credit.consumption", required=True, ondelete="cascade", index=True
    )
    grant_id = fields.Many2one(
        "credit.grant", required=True, ondelete="restrict", index=True
    )
    quantity = fields.Float(digits=CREDIT_DIGITS, required=True)
    credit_decimals = fields.Integer(
        related="consumption_id.credit_type_id.decimal_places"
    )
    state = fields.Selection(related="consumption_id.state", store=True)
    company_id = fields.Many2one(related="consumption_id.company_id", store=True)
    date = fields.Date(related="consumption_id.date", store=True)
    grant_date_expiry = fields.Date(related="grant_id.date_expiry", string="Expiry")

    _sql_constraints = [
        ("quantity_positive", "CHECK(quantity > 0)", "An allocation spends units."),
    ]
