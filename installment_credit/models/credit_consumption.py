# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
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

    def action_reverse(self):
        """Give the units of these consumptions back to the grants they came from.

        Grants that expired since stay expired: the units come back as expired
        (breakage grows). The consumption stays in the ledger as ``reversed``."""
        self._check_ledger_rights()
        # Reading the state checks the caller's access to these records.
        if any(c.state != "done" for c in self):
            raise UserError(_("Only consumptions in state Done can be reversed."))
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
    state = fields.Selection(related="consumption_id.state", store=True)
    company_id = fields.Many2one(related="consumption_id.company_id", store=True)
    date = fields.Date(related="consumption_id.date", store=True)
    grant_date_expiry = fields.Date(related="grant_id.date_expiry", string="Expiry")

    _sql_constraints = [
        ("quantity_positive", "CHECK(quantity > 0)", "An allocation spends units."),
    ]
