from odoo import api, fields, models
from odoo.tools import format_amount, format_date


class ResPartner(models.Model):
    _inherit = "res.partner"

    installment_no_reminder = fields.Boolean(
        string="Exclude from Reminders",
        help="No payment reminder is emailed to this customer, neither by the "
        "daily run nor by hand.",
    )
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

    def action_register_installment_payment(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Register Installment Payment"),
            "res_model": "installment.payment.register",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["installment_no_reminder"]

    def _installment_reminder_items(self):
        """What a reminder email lists for this customer.

        Reads the send logs handed over by the reminder run in the context
        key ``installment_reminder_logs`` (``((partner_id, (log_id, ...)),
        ...)``). Returns a dict: ``items`` (one dict per target: ``label``,
        ``due_date``, ``amount``, ``status``), ``totals`` (formatted amount
        per currency) and ``company``.
        """
        self.ensure_one()
        payload = dict(self.env.context.get("installment_reminder_logs") or ())
        all_ids = [log_id for ids in payload.values() for log_id in ids]
        logs = (
            self.env["installment.reminder.log"]
            .sudo()
            .browse(payload.get(self.id, ()))
            .with_prefetch(all_ids)
        )
        today = fields.Date.context_today(self)
        items, totals = [], {}
        lang = self.lang or self.env.lang
        for log in logs.sorted(lambda log: (log.due_date, log.id)):
            days = (today - log.due_date).days
            if days > 0:
                status = self.env._("%s day(s) overdue", days)
            elif days == 0:
                status = self.env._("due today")
            else:
                status = self.env._("due in %s day(s)", -days)
            items.append(
                {
                    "label": log._reminder_label(),
                    "due_date": format_date(self.env, log.due_date, lang_code=lang),
                    "amount": format_amount(
                        self.env, log.amount_residual, log.currency_id, lang
                    ),
                    "status": status,
                    "overdue": days > 0,
                }
            )
            totals[log.currency_id] = totals.get(log.currency_id, 0.0) + (
                log.amount_residual
            )
        return {
            "items": items,
            "totals": [
                format_amount(self.env, amount, currency, lang)
                for currency, amount in totals.items()
            ],
            "company": logs.company_id[:1] or self.env.company,
        }
