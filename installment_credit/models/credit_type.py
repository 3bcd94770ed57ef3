# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import math
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero, float_repr, float_round

# Quantities are stored as numeric(16, 4): the finest rounding a type may use.
CREDIT_DIGITS = (16, 4)
MIN_ROUNDING = 0.0001
CODE_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


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
    code = fields.Char(
        index="btree_not_null",
        copy=False,
        help="Stable key of this type for other systems (e.g. sms, minutes): "
        "the API accepts it wherever a credit type is expected. Unique per "
        "company.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda s: s.env.company
    )
    # For the portal record rule: a customer sees the types they hold.
    grant_ids = fields.One2many(
        "credit.grant", "credit_type_id", string="Grants", groups="base.group_user"
    )

    decimal_places = fields.Integer(
        compute="_compute_decimal_places",
        store=True,
        help="Decimals its quantities are shown with, from the rounding.",
    )

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(company_id, code)",
            "A credit type code must be unique per company.",
        ),
    ]

    @api.constrains("code")
    def _check_code(self):
        for ctype in self.filtered("code"):
            if not CODE_PATTERN.fullmatch(ctype.code):
                raise ValidationError(
                    _(
                        "The code %(code)r of credit type %(type)s may only hold "
                        "letters, digits, dots, dashes and underscores (no "
                        "spaces), at most 64 characters.",
                        code=ctype.code,
                        type=ctype.name,
                    )
                )

    @api.model
    def _resolve_keys(self, keys):
        """Map credit type keys given by another system (an id, or a ``code``
        of one of the user's active companies, the current one first) to
        types, in one query per kind of key. Unknown or inaccessible keys are
        left out of the result; archived types are included (the caller says
        why they cannot be used)."""
        Type = self.with_context(active_test=False)
        ids = {k for k in keys if isinstance(k, int) and not isinstance(k, bool)}
        codes = {k for k in keys if isinstance(k, str) and k}
        found = {}
        if ids:
            for ctype in Type.search([("id", "in", list(ids))]):
                found[ctype.id] = ctype
        if codes:
            company_ids = self.env.companies.ids
            rank = {cid: i for i, cid in enumerate(company_ids)}
            rank[self.env.company.id] = -1
            types = Type.search(
                [("code", "in", list(codes)), ("company_id", "in", company_ids)]
            )
            for ctype in types.sorted(lambda t: rank.get(t.company_id.id, 99)):
                found.setdefault(ctype.code, ctype)
        return found

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
        if not math.isfinite(quantity):
            raise UserError(
                _(
                    "The quantity of %(type)s must be a finite number (got %(qty)s).",
                    type=self.name,
                    qty=quantity,
                )
            )
        rounded = self._round(quantity)
        if rounded <= 0.0:
            raise UserError(
                _(
                    "The quantity of %(type)s must be positive (got %(qty)s).",
                    type=self.name,
                    qty=quantity,
                )
            )
        if not float_is_zero(rounded - quantity, precision_digits=6):
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
