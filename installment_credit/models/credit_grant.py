# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, create_index, format_date

from .credit_type import CREDIT_DIGITS


class CreditGrant(models.Model):
    """One lot of units of one credit type, usable from ``date_start`` (included)
    to ``date_expiry`` (excluded). Its consumed quantity is derived from the
    allocation ledger, never incremented."""

    _name = "credit.grant"
    _description = "Credit grant"
    _order = "date_expiry desc, date_start desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda s: s.env.company,
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
    package_id = fields.Many2one("credit.package", check_company=True, readonly=True)
    package_kind = fields.Selection(
        related="package_id.package_kind", store=True, string="Kind"
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Invoice line",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
        groups="base.group_user",
    )
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
    )
    quantity = fields.Float(digits=CREDIT_DIGITS, required=True, readonly=True)
    quantity_consumed = fields.Float(
        digits=CREDIT_DIGITS, compute="_compute_quantities", store=True
    )
    quantity_cancelled = fields.Float(
        digits=CREDIT_DIGITS,
        readonly=True,
        help="Units cancelled by a credit note, by a reset to draft of the "
        "invoice that sold them, or withdrawn while it is not paid.",
    )
    quantity_withdrawn = fields.Float(
        digits=CREDIT_DIGITS,
        readonly=True,
        help="Part of the cancelled units withdrawn because the invoice that "
        "sold them stopped being paid (units usable when paid): they come back "
        "when it is paid again.",
    )
    released = fields.Boolean(
        string="Released by reset to draft",
        readonly=True,
        copy=False,
        help="The invoice went back to draft: posting it again grants anew.",
    )
    quantity_remaining = fields.Float(
        digits=CREDIT_DIGITS, compute="_compute_quantities", store=True
    )
    quantity_expired = fields.Float(
        string="Expired (breakage)",
        digits=CREDIT_DIGITS,
        compute="_compute_state",
        store=True,
        help="Units left unused when the grant expired.",
    )
    date_start = fields.Date(required=True, readonly=True)
    date_expiry = fields.Date(
        required=True,
        readonly=True,
        help="First day on which the units can no longer be used.",
    )
    date_last_usable = fields.Date(
        compute="_compute_date_last_usable",
        help="Last day on which the units can be used.",
    )
    date_expired = fields.Date(
        string="Expired on", readonly=True, help="Set by the daily expiry action."
    )
    expiry_notified = fields.Boolean(
        string="Expiry notice sent", readonly=True, copy=False
    )
    state = fields.Selection(
        [
            ("active", "Active"),
            ("exhausted", "Exhausted"),
            ("expired", "Expired"),
            ("cancelled", "Cancelled"),
        ],
        compute="_compute_state",
        store=True,
    )
    allocation_ids = fields.One2many(
        "credit.consumption.allocation",
        "grant_id",
        string="Allocations",
        groups="base.group_user",
    )

    def init(self):
        # Serves the FEFO lookup of consume_credits() whatever the history size.
        create_index(
            self._cr,
            "credit_grant_fefo_index",
            self._table,
            ["partner_id", "credit_type_id", "state", "date_expiry", "date_start"],
        )

    @api.depends("date_expiry")
    def _compute_date_last_usable(self):
        for grant in self:
            grant.date_last_usable = (
                grant.date_expiry and grant.date_expiry - relativedelta(days=1)
            )

    @api.depends(
        "allocation_ids.quantity", "allocation_ids.state", "quantity_cancelled"
    )
    def _compute_quantities(self):
        consumed = {}
        if self.ids:
            consumed = dict(
                self.env["credit.consumption.allocation"]
                .sudo()
                ._read_group(
                    [("grant_id", "in", self.ids), ("state", "=", "done")],
                    ["grant_id"],
                    ["quantity:sum"],
                )
            )
        for grant in self:
            used = consumed.get(grant._origin, 0.0) if grant.id else 0.0
            grant.quantity_consumed = used
            grant.quantity_remaining = grant.credit_type_id._round(
                grant.quantity - used - grant.quantity_cancelled
            )

    @api.depends(
        "quantity_remaining", "date_expired", "quantity_consumed", "quantity_cancelled"
    )
    def _compute_state(self):
        for grant in self:
            ctype = grant.credit_type_id
            remaining_zero = ctype._is_zero(grant.quantity_remaining)
            expired = 0.0
            if (
                remaining_zero
                and not ctype._is_zero(grant.quantity_cancelled)
                and ctype._is_zero(grant.quantity_consumed)
            ):
                state = "cancelled"
            elif grant.date_expired:
                state = "expired"
                expired = grant.quantity_remaining
            elif remaining_zero:
                state = "exhausted"
            else:
                state = "active"
            grant.state = state
            grant.quantity_expired = expired

    @api.constrains("date_start", "date_expiry")
    def _check_dates(self):
        for grant in self:
            if grant.date_expiry <= grant.date_start:
                raise ValidationError(
                    _(
                        "A grant must expire after it starts (%(start)s - %(expiry)s).",
                        start=format_date(self.env, grant.date_start),
                        expiry=format_date(self.env, grant.date_expiry),
                    )
                )

    @api.constrains("quantity", "credit_type_id")
    def _check_quantity(self):
        for grant in self:
            try:
                grant.credit_type_id._check_quantity(grant.quantity)
            except UserError as error:
                raise ValidationError(error.args[0]) from error

    @api.depends("credit_type_id", "quantity", "date_expiry")
    def _compute_display_name(self):
        for grant in self:
            grant.display_name = _(
                "%(qty)s %(unit)s until %(date)s",
                qty=grant.credit_type_id._format(grant.quantity)
                if grant.credit_type_id
                else grant.quantity,
                unit=grant.credit_type_id.unit_name or "",
                date=format_date(self.env, grant.date_expiry),
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_ledger(self):
        if self.filtered(lambda g: g.move_line_id or g.allocation_ids):
            raise UserError(
                _(
                    "Grants sold on an invoice or already consumed are part of the "
                    "ledger and cannot be deleted: issue a credit note instead."
                )
            )

    # ------------------------------------------------------------------
    # Locking
    # ------------------------------------------------------------------
    @api.model
    def _lock_partners(self, partners):
        """Lock the rows of these (commercial) partners, in id order.

        The first lock of everything that changes a customer's units
        (consumption, reversal, credit notes, reset to draft, payment
        withdrawal): the one lock order is partner rows by id, then grants by
        id, so two of them never deadlock. ``NO KEY UPDATE``: rows referencing
        the partner (new consumptions, invoices, messages) are not blocked."""
        ids = tuple(sorted(set(partners.ids)))
        if ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM res_partner WHERE id IN %s "
                    "ORDER BY id FOR NO KEY UPDATE",
                    ids,
                )
            )

    def _lock_for_update(self):
        """Lock these grants' partners, then the grants (both in id order), and
        refresh their cache."""
        if not self:
            return self
        self.flush_model()
        self._lock_partners(self.partner_id)
        self.env.cr.execute(
            SQL(
                "SELECT id FROM credit_grant WHERE id IN %s ORDER BY id FOR UPDATE",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset()
        return self

    @api.model
    def _usable_domain(self, date):
        """Grants usable for a consumption (or the status) dated ``date``: valid
        on that date and not expired today, swept by the daily action or not."""
        today = fields.Date.context_today(self)
        return [
            ("state", "=", "active"),
            ("date_start", "<=", date),
            ("date_expiry", ">", max(date, today)),
        ]

    @api.model
    def _lock_fefo(self, partner, credit_type, company, date, quantity, batch=50):
        """Lock and return the partner's usable grants of ``credit_type`` on
        ``date`` (see ``_usable_domain``), nearest expiry first (then oldest
        start, then id), until they cover ``quantity``; return
        ``(grants, available)``.

        The partner row is locked first, then the grants that will be allocated
        from, by id (the one lock order); the FEFO order is applied after
        locking. The candidates are read by keyset batches of ``batch`` rows,
        so the cost does not grow with the customer's history. Under
        REPEATABLE READ a grant changed by a transaction that committed
        meanwhile raises a serialization failure when locked, which Odoo
        retries. When the grants fall short, all usable grants were read and
        ``available`` is their total."""
        self.flush_model()
        self._lock_partners(partner)
        today = fields.Date.context_today(self)
        ids, available, after = [], 0.0, None
        while True:
            keyset = SQL()
            if after:
                keyset = SQL("AND (date_expiry, date_start, id) > (%s, %s, %s)", *after)
            self.env.cr.execute(
                SQL(
                    """
                    SELECT id, quantity_remaining, date_expiry, date_start
                      FROM credit_grant
                     WHERE partner_id = %(partner)s
                       AND credit_type_id = %(type)s
                       AND state = 'active'
                       AND company_id = %(company)s
                       AND date_start <= %(date)s
                       AND date_expiry > %(not_before)s
                       %(keyset)s
                  ORDER BY date_expiry, date_start, id
                     LIMIT %(batch)s
                    """,
                    partner=partner.id,
                    type=credit_type.id,
                    company=company.id,
                    date=date,
                    not_before=max(date, today),
                    keyset=keyset,
                    batch=batch,
                )
            )
            rows = self.env.cr.fetchall()
            for grant_id, remaining, expiry, start in rows:
                ids.append(grant_id)
                available += float(remaining or 0.0)
                after = (expiry, start, grant_id)
            if len(rows) < batch or credit_type._compare(available, quantity) >= 0:
                break
        grants = self.browse(ids)
        if ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM credit_grant WHERE id IN %s ORDER BY id FOR UPDATE",
                    tuple(ids),
                )
            )
            grants.invalidate_recordset()
        return grants, credit_type._round(available)

    @api.model
    def _lock_usable_many(self, partners, credit_types):
        """Lock the partners (by id), then in one ordered statement the grants
        of those partners and types usable today or on an earlier date (active,
        started, not expired today), by id: the batch consumption's lock, in
        the one lock order. Return ``{(partner_id, type_id): [[grant_id,
        remaining, date_start, date_expiry], ...]}`` in FEFO order."""
        self.flush_model()
        self._lock_partners(partners)
        if not partners or not credit_types:
            return {}
        today = fields.Date.context_today(self)
        self.env.cr.execute(
            SQL(
                """
                SELECT id, partner_id, credit_type_id, quantity_remaining,
                       date_start, date_expiry
                  FROM credit_grant
                 WHERE partner_id = ANY(%(partners)s)
                   AND credit_type_id = ANY(%(types)s)
                   AND state = 'active'
                   AND date_start <= %(today)s
                   AND date_expiry > %(today)s
              ORDER BY id
                   FOR UPDATE
                """,
                partners=sorted(partners.ids),
                types=sorted(credit_types.ids),
                today=today,
            )
        )
        rows = sorted(self.env.cr.fetchall(), key=lambda r: (r[5], r[4], r[0]))
        self.invalidate_model(["quantity_remaining", "quantity_consumed", "state"])
        by_pair = {}
        for grant_id, partner_id, type_id, remaining, start, expiry in rows:
            by_pair.setdefault((partner_id, type_id), []).append(
                [grant_id, float(remaining or 0.0), start, expiry]
            )
        return by_pair

    def _take_back(self, quantity):
        """Take back ``quantity`` unused units from these locked grants, latest
        expiry first: units withdrawn while their invoice is unpaid first, then
        the remaining ones. Return what could not be taken (0 when all was)."""
        for grant in self.sorted(lambda g: (g.date_expiry, g.id), reverse=True):
            ctype = grant.credit_type_id
            if ctype._compare(quantity, 0.0) <= 0:
                break
            withdrawn = min(grant.quantity_withdrawn, quantity)
            if ctype._compare(withdrawn, 0.0) > 0:
                # Already cancelled: they are simply no longer due back.
                grant.quantity_withdrawn = ctype._round(
                    grant.quantity_withdrawn - withdrawn
                )
                quantity = ctype._round(quantity - withdrawn)
            take = min(max(grant.quantity_remaining, 0.0), quantity)
            if grant.state == "active" and ctype._compare(take, 0.0) > 0:
                grant.quantity_cancelled = ctype._round(grant.quantity_cancelled + take)
                quantity = ctype._round(quantity - take)
        return quantity

    def _restore_withdrawn(self):
        """Give back the units withdrawn while their invoice was unpaid (it is
        paid again). Units of a grant expired meanwhile come back expired."""
        self._lock_for_update()
        for grant in self.filtered("quantity_withdrawn"):
            grant.write(
                {
                    "quantity_cancelled": grant.credit_type_id._round(
                        grant.quantity_cancelled - grant.quantity_withdrawn
                    ),
                    "quantity_withdrawn": 0.0,
                }
            )

    def _available_to_take_back(self):
        """Units ``_take_back`` can take from these grants."""
        return sum(
            (g.quantity_remaining if g.state == "active" else 0.0)
            + g.quantity_withdrawn
            for g in self
        )

    # ------------------------------------------------------------------
    # Periods
    # ------------------------------------------------------------------
    @api.model
    def _current_subscription_expiry(self, partner, credit_type, company, date):
        """Expiry of the partner's subscription of ``credit_type`` running on
        ``date`` (active or exhausted), or None."""
        rows = self._read_group(
            [
                ("partner_id", "=", partner.id),
                ("credit_type_id", "=", credit_type.id),
                ("company_id", "=", company.id),
                ("package_kind", "=", "subscription"),
                ("state", "in", ("active", "exhausted")),
                ("date_start", "<=", date),
                ("date_expiry", ">", date),
            ],
            [],
            ["date_expiry:max"],
        )
        return rows[0][0] if rows else None

    @api.model
    def _subscription_chain_start(self, partner, package, date):
        """Start of a new subscription of ``package`` sold on ``date``: the end of
        the partner's latest running one (renewal without gap or overlap), else
        ``date``."""
        rows = self._read_group(
            [
                ("partner_id", "=", partner.id),
                ("package_id", "=", package.id),
                ("company_id", "=", package.company_id.id),
                ("state", "in", ("active", "exhausted")),
                ("date_expiry", ">", date),
            ],
            [],
            ["date_expiry:max"],
        )
        latest = rows[0][0] if rows else None
        return latest or date

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_renew(self):
        """Create a draft invoice selling again the package of this grant."""
        self.ensure_one()
        if self.package_kind != "subscription":
            raise UserError(_("Only subscriptions can be renewed."))
        return self.partner_id._credit_create_package_invoice(self.package_id)
