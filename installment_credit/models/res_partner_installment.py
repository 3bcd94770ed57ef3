from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    installment_open_count = fields.Integer(
        string="Open Installments", compute="_compute_installment_stats"
    )
    installment_late_amount = fields.Monetary(
        string="Late Installments",
        compute="_compute_installment_stats",
        currency_field="currency_id",
    )

    @api.depends_context("company")
    def _compute_installment_stats(self):
        commercial = self.commercial_partner_id
        groups = self.env["installment.plan.line"]._read_group(
            [
                ("partner_id", "in", commercial.ids),
                ("plan_state", "=", "active"),
                ("state", "!=", "paid"),
                ("company_id", "in", self.env.companies.ids),
            ],
            groupby=["partner_id", "state"],
            aggregates=["__count", "amount_residual:sum"],
        )
        counts, late = {}, {}
        for partner, state, count, residual in groups:
            counts[partner.id] = counts.get(partner.id, 0) + count
            if state == "late":
                late[partner.id] = late.get(partner.id, 0.0) + residual
        for partner in self:
            key = partner.commercial_partner_id.id
            partner.installment_open_count = counts.get(key, 0)
            partner.installment_late_amount = late.get(key, 0.0)

    @api.readonly
    def action_view_installments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_plan_line_action"
        )
        action["domain"] = [
            ("partner_id", "=", self.commercial_partner_id.id),
            ("plan_state", "=", "active"),
        ]
        action["context"] = {"search_default_filter_not_paid": 1}
        return action

    @api.readonly
    def action_register_installment_payment(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.installment_payment_register_action"
        )
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action
