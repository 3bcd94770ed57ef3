# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .credit_type import CREDIT_DIGITS

# Fields mirrored on the package's product.
_PRODUCT_SYNC = ("name", "active", "company_id")


class CreditPackage(models.Model):
    _name = "credit.package"
    _description = "Credit package"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    product_id = fields.Many2one(
        "product.product",
        readonly=True,
        copy=False,
        ondelete="restrict",
        index=True,
        help="Service product created with the package: selling it on a customer "
        "invoice sells the package.",
    )
    list_price = fields.Float(
        string="Price",
        related="product_id.list_price",
        readonly=False,
        digits="Product Price",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.One2many(
        "credit.package.line", "package_id", string="Credits", copy=True
    )
    validity_number = fields.Integer(string="Validity", required=True, default=1)
    validity_unit = fields.Selection(
        [("day", "Days"), ("month", "Months"), ("year", "Years")],
        required=True,
        default="month",
    )
    package_kind = fields.Selection(
        [("subscription", "Subscription"), ("recharge", "Recharge")],
        string="Kind",
        required=True,
        default="subscription",
        help="A recharge adds units to the customer's current subscription of the "
        "same credit type and expires with it.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda s: s.env.company
    )
    grant_count = fields.Integer(compute="_compute_grant_count")

    _sql_constraints = [
        ("product_uniq", "unique(product_id)", "A product sells one package only."),
    ]

    @api.constrains("validity_number")
    def _check_validity(self):
        for package in self:
            if package.validity_number <= 0:
                raise ValidationError(
                    _(
                        "The validity of package %(package)s must be positive "
                        "(got %(value)s).",
                        package=package.name,
                        value=package.validity_number,
                    )
                )

    @api.constrains("line_ids", "active")
    def _check_lines(self):
        for package in self:
            if package.active and not package.line_ids:
                raise ValidationError(
                    _(
                        "Package %(package)s has no credits: add at least one line "
                        "with a credit type and a quantity.",
                        package=package.name,
                    )
                )

    def _compute_grant_count(self):
        counts = dict(
            self.env["credit.grant"]._read_group(
                [("package_id", "in", self.ids)], ["package_id"], ["__count"]
            )
        )
        for package in self:
            package.grant_count = counts.get(package, 0)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("product_id"):
                company_id = vals.get("company_id") or self.env.company.id
                product = (
                    self.env["product.product"]
                    .with_company(company_id)
                    .create(
                        {
                            "name": vals.get("name"),
                            "type": "service",
                            "sale_ok": True,
                            "purchase_ok": False,
                            "list_price": vals.pop("list_price", 0.0),
                            "company_id": company_id,
                            "active": vals.get("active", True),
                        }
                    )
                )
                vals["product_id"] = product.id
        return super().create(vals_list)

    def write(self, vals):
        res = super().write(vals)
        sync = {key: vals[key] for key in _PRODUCT_SYNC if key in vals}
        if sync:
            self.product_id.with_context(active_test=False).write(sync)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sold(self):
        if self.env["credit.grant"].search_count(
            [("package_id", "in", self.ids)], limit=1
        ):
            raise UserError(
                _(
                    "A package that was already sold cannot be deleted: archive it "
                    "instead."
                )
            )

    def unlink(self):
        products = self.product_id
        res = super().unlink()
        # The product may be on draft invoices or quotations: archive, never delete.
        products.write({"active": False})
        return res

    @api.model
    def _by_product(self, products):
        """``{product: package}`` for those of ``products`` that sell a credit
        package (archived packages included: an old invoice still sells it)."""
        packages = (
            self.sudo()
            .with_context(active_test=False)
            .search([("product_id", "in", products.ids)])
        )
        return {package.product_id: package for package in packages}

    def _get_expiry(self, date_start):
        """Date on which units granted on ``date_start`` stop being usable."""
        self.ensure_one()
        return date_start + relativedelta(
            **{f"{self.validity_unit}s": self.validity_number}
        )

    def _check_sellable(self):
        """Refuse to sell an archived package, one without lines or archived types."""
        for package in self.with_context(active_test=False):
            if not package.active:
                raise UserError(
                    _(
                        "Package %(package)s is archived and cannot be sold: "
                        "restore it or choose another package.",
                        package=package.name,
                    )
                )
            if not package.line_ids:
                raise UserError(
                    _("Package %(package)s has no credits.", package=package.name)
                )
            archived = package.line_ids.credit_type_id.filtered(lambda t: not t.active)
            if archived:
                raise UserError(
                    _(
                        "Package %(package)s contains the archived credit type "
                        "%(type)s: restore the type or fix the package.",
                        package=package.name,
                        type=archived[0].name,
                    )
                )

    @api.readonly
    def action_view_grants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_grant_action"
        )
        action["domain"] = [("package_id", "=", self.id)]
        action["context"] = {}
        return action


class CreditPackageLine(models.Model):
    _name = "credit.package.line"
    _description = "Credit package line"
    _order = "package_id, id"
    _check_company_auto = True

    package_id = fields.Many2one(
        "credit.package", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="package_id.company_id", store=True)
    credit_type_id = fields.Many2one(
        "credit.type", string="Credit type", required=True, check_company=True
    )
    unit_name = fields.Char(related="credit_type_id.unit_name")
    credit_decimals = fields.Integer(related="credit_type_id.decimal_places")
    quantity = fields.Float(digits=CREDIT_DIGITS, required=True, default=1.0)

    _sql_constraints = [
        (
            "type_uniq",
            "unique(package_id, credit_type_id)",
            "A package lists each credit type once.",
        ),
    ]

    @api.constrains("quantity", "credit_type_id")
    def _check_quantity(self):
        for line in self:
            try:
                line.credit_type_id._check_quantity(line.quantity)
            except UserError as error:
                raise ValidationError(
                    _(
                        "Package %(package)s: %(error)s",
                        package=line.package_id.name,
                        error=error.args[0],
                    )
                ) from error
