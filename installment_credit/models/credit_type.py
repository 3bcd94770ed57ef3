# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero, float_repr, float_round

# Quantities are stored as numeric(16, 4): the finest rounding a type may use.
CREDIT_DIGITS = (16, 4)
MIN_ROUNDING = 0.0001


class CreditType(models.Model):
    _name = "credit.type"
    _description = "Credit type"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    unit_name = fields.Char(
        string="Unit", required=True, translate=True, help="e.g. SMS, minute, GB"
    )
    rounding = fields.Float(
        digits=CREDIT_DIGITS,
        required=True,
        default=1.0,
        help="Smallest quantity of this type that can be sold or consumed "
        "(1 for whole units, 0.01 for hundredths).",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda s: s.env.company
    )
    decimal_places = fields.Integer(
        compute="_compute_decimal_places",
        store=True,
        help="Decimals its quantities are shown with, from the rounding.",
    )

    @api.depends("rounding")
    def _compute_decimal_places(self):
        for ctype in self:
            ctype.decimal_places = ctype._decimals()

    def _decimals(self):
        self.ensure_one()
        if self.rounding <= 0:
            return 4
        return min(4, max(0, -math.floor(math.log10(self.rounding) + 1e-9)))

    @api.constrains("rounding")
    def _check_rounding(self):
        for ctype in self:
            if float_compare(ctype.rounding, MIN_ROUNDING, precision_digits=4) < 0:
                raise ValidationError(
                    _(
                        "The rounding of credit type %(type)s must be at least "
                        "%(min)s.",
                        type=ctype.name,
                        min=MIN_ROUNDING,
                    )
                )

    def _compare(self, value1, value2):
        self.ensure_one()
        return float_compare(value1, value2, precision_rounding=self.rounding)

    def _is_zero(self, value):
        self.ensure_one()
        return float_is_zero(value, precision_rounding=self.rounding)

    def _round(self, value):
        self.ensure_one()
        return float_round(value, precision_rounding=self.rounding)

    def _format(self, value):
        """Quantity as text with the decimals of the type's rounding."""
        self.ensure_one()
        return float_repr(self._round(value), self._decimals())

    def _check_quantity(self, quantity):
        """Refuse a quantity that is not positive or finer than the rounding."""
        self.ensure_one()
        if self._compare(quantity, 0.0) <= 0:
            raise UserError(
                _(
                    "The quantity of %(type)s must be positive (got %(qty)s).",
                    type=self.name,
                    qty=quantity,
                )
            )
        if float_compare(self._round(quantity), quantity, precision_digits=6):
            raise UserError(
                _(
                    "%(qty)s %(unit)s is finer than the rounding of %(type)s "
                    "(%(rounding)s): use a multiple of %(rounding)s.",
                    qty=quantity,
                    unit=self.unit_name,
                    type=self.name,
                    rounding=self.rounding,
                )
            )
