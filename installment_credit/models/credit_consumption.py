# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import create_index

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
    reference = fields.Char(readonly=True, help="Free text given by the caller.")
    res_model = fields.Char(string="Source model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Source record", model_field="res_model", readonly=True
    )
    idempotency_key = fields.Char(
        readonly=True,
        copy=False,
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
    reversed_uid = fields.Many2one("res.users", string="Reversed by", readonly=True)
    allocation_ids = fields.One2many(
        "credit.consumption.allocation",
        "consumption_id",
        string="Allocations",
        readonly=True,
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
                date=consumption.date,
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

    def _check_allocations(self):
        """Invariant: the allocations of a consumption sum to its quantity."""
        for consumption in self:
            total = sum(consumption.allocation_ids.mapped("quantity"))
            if consumption.credit_type_id._compare(total, consumption.quantity):
                raise UserError(
                    _(
                        "Internal error: consumption of %(qty)s allocated %(total)s.",
                        qty=consumption.quantity,
                        total=total,
                    )
                )

    # ------------------------------------------------------------------
    # The one service that spends units (res.partner.consume_credits)
    # ------------------------------------------------------------------
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
        if isinstance(credit_type, int):
            credit_type = self.env["credit.type"].browse(credit_type)
        credit_type = credit_type.with_context(active_test=False).exists()
        if len(credit_type) != 1:
            raise UserError(_("Give exactly one existing credit type to consume."))
        if not credit_type.active:
            raise UserError(
                _(
                    "Credit type %(type)s is archived: its units cannot be consumed.",
                    type=credit_type.name,
                )
            )
        credit_type._check_quantity(quantity)
        quantity = credit_type._round(quantity)
        company = credit_type.company_id
        today = fields.Date.context_today(self)
        date = fields.Date.to_date(date) or today
        if date > today:
            raise UserError(
                _(
                    "A consumption dated %(date)s is in the future (today is "
                    "%(today)s): record it on the day the units are used.",
                    date=date,
                    today=today,
                )
            )
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
                if (
                    existing.partner_id != partner
                    or existing.credit_type_id != credit_type
                    or credit_type._compare(existing.quantity, quantity)
                ):
                    raise UserError(
                        _(
                            "Idempotency key %(key)s was already used for "
                            "%(qty)s %(unit)s of %(type)s for %(partner)s: this "
                            "is a different request, use a new key.",
                            key=idempotency_key,
                            qty=existing.credit_type_id._format(existing.quantity),
                            unit=existing.credit_type_id.unit_name,
                            type=existing.credit_type_id.name,
                            partner=existing.partner_id.display_name,
                        )
                    )
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
            raise UserError(
                _(
                    "Not enough %(type)s for %(partner)s: %(requested)s %(unit)s "
                    "requested, %(available)s %(unit)s available on %(date)s.",
                    type=credit_type.name,
                    partner=partner.display_name,
                    requested=credit_type._format(quantity),
                    available=credit_type._format(available),
                    unit=credit_type.unit_name,
                    date=date,
                )
            )

        allocations = []
        to_allocate = quantity
        for grant in grants:
            if credit_type._compare(to_allocate, 0.0) <= 0:
                break
            take = min(grant.quantity_remaining, to_allocate)
            if credit_type._compare(take, 0.0) <= 0:
                continue
            take = credit_type._round(take)
            allocations.append(Command.create({"grant_id": grant.id, "quantity": take}))
            to_allocate = credit_type._round(to_allocate - take)

        vals = {
            "partner_id": partner.id,
            "company_id": company.id,
            "credit_type_id": credit_type.id,
            "quantity": quantity,
            "date": date,
            "description": description,
            "idempotency_key": idempotency_key or False,
            "allocation_ids": allocations,
        }
        if isinstance(reference, models.BaseModel):
            reference.ensure_one()
            vals.update(
                reference=reference.display_name,
                res_model=reference._name,
                res_id=reference.id,
            )
        else:
            vals["reference"] = reference or False
        consumption = Consumption.create(vals)
        consumption._check_allocations()
        return self.env["credit.consumption"].browse(consumption.id)

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
