# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models

from ..models.credit_type import CREDIT_DIGITS


class CreditConsumptionRegister(models.TransientModel):
    _name = "credit.consumption.register"
    _description = "Register a credit consumption"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company
    )
    credit_type_id = fields.Many2one(
        "credit.type",
        string="Credit type",
        required=True,
        domain="[('company_id', '=', company_id)]",
    )
    unit_name = fields.Char(related="credit_type_id.unit_name")
    credit_decimals = fields.Integer(related="credit_type_id.decimal_places")
    available = fields.Float(digits=CREDIT_DIGITS, compute="_compute_available")
    quantity = fields.Float(digits=CREDIT_DIGITS, required=True, default=1.0)
    date = fields.Date(required=True, default=fields.Date.context_today)
    description = fields.Char()
    reference = fields.Char()

    @api.depends("partner_id", "credit_type_id", "date")
    def _compute_available(self):
        for wizard in self:
            available = 0.0
            if wizard.partner_id and wizard.credit_type_id and wizard.date:
                status = self.env["res.partner"]._credit_status_for(
                    wizard.partner_id, wizard.date
                )
                entry = status.get(
                    (wizard.partner_id.commercial_partner_id, wizard.credit_type_id)
                )
                available = entry["remaining"] if entry else 0.0
            wizard.available = available

    def action_confirm(self):
        self.ensure_one()
        self.partner_id.consume_credits(
            self.credit_type_id,
            self.quantity,
            reference=self.reference,
            date=self.date,
            description=self.description,
        )
        return {"type": "ir.actions.act_window_close"}
