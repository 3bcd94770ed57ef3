# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import formatLang

# Alias of the aggregate read_group adds to tell how many credit types a group
# spans (never returned to the caller).
TYPES_ALIAS = "ic_credit_type_count"


class CreditUnitTotals(models.AbstractModel):
    """Quantities of credit types are in the unit of their type (SMS, minutes,
    points): a total over several types adds different units and means
    nothing. Grouped reads (pivot cells and totals, graph points, grouped list
    rows) leave the quantity measures empty for a group that spans more than one
    credit type; within one type they are the type's sums."""

    _name = "credit.unit.totals.mixin"
    _description = "Quantities of credit types: no total across units"

    # The field naming the credit type of a record, and the quantity fields
    # (in that type's unit) whose totals across types are left empty.
    _credit_type_field = "credit_type_id"
    _credit_unit_fields = ()

    @api.model
    def read_group(
        self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True
    ):
        asked = [
            name
            for name in self._credit_unit_fields
            if any(spec.split(":")[0].split("(")[0].strip() == name for spec in fields)
        ]
        if not asked:
            return super().read_group(
                domain, fields, groupby, offset, limit, orderby, lazy
            )
        type_field = self._credit_type_field
        counter = f"{TYPES_ALIAS}:count_distinct({type_field})"
        groups = super().read_group(
            domain, [*fields, counter], groupby, offset, limit, orderby, lazy
        )
        for group in groups:
            if (group.pop(TYPES_ALIAS, 0) or 0) > 1:
                for name in asked:
                    group[name] = False
        return groups


class CreditType(models.Model):
    _inherit = "credit.type"

    def _format_units(self, value):
        """``value`` as people read it: the type's decimals, the language's
        separators and the unit ("1,250 SMS", "5,962.50 minutes")."""
        self.ensure_one()
        amount = formatLang(self.env, self._round(value), digits=self._decimals())
        return f"{amount} {self.unit_name or ''}".strip()


class CreditGrant(models.Model):
    _name = "credit.grant"
    _inherit = ["credit.grant", "credit.unit.totals.mixin"]

    quantity_remaining_display = fields.Char(
        string="Remaining (units)", compute="_compute_quantity_remaining_display"
    )

    @api.depends("quantity_remaining", "credit_type_id.rounding")
    @api.depends_context("lang")
    def _compute_quantity_remaining_display(self):
        for grant in self:
            grant.quantity_remaining_display = (
                grant.credit_type_id._format_units(grant.quantity_remaining)
                if grant.credit_type_id
                else False
            )

    _credit_unit_fields = (
        "quantity",
        "quantity_consumed",
        "quantity_remaining",
        "quantity_cancelled",
        "quantity_withdrawn",
        "quantity_expired",
    )


class CreditConsumption(models.Model):
    _name = "credit.consumption"
    _inherit = ["credit.consumption", "credit.unit.totals.mixin"]
    _credit_unit_fields = ("quantity",)


class CreditPackageLine(models.Model):
    _name = "credit.package.line"
    _inherit = ["credit.package.line", "credit.unit.totals.mixin"]
    _credit_unit_fields = ("quantity",)
