from odoo import api, fields, models
from odoo.tools import format_date

USER_GROUP = "installment_credit.group_installment_user"
# Context key: email the customer the changes a write makes (see
# ``_notify_customer_changes``). The plan form sets it on save through
# ``web_save`` (its *Notify customer* box, on by default); an RPC caller
# passes it, or writes ``notify_customer``, to do the same.
NOTIFY_KEY = "installment_notify_customer"


class InstallmentPlan(models.Model):
    """What the customer is told and sees of a plan: its payment reference,
    the history of its schedule; and what they never see: the internal note."""

    _inherit = "installment.plan"

    payment_reference = fields.Char(
        related="move_id.payment_reference",
        string="Payment Reference",
        help="The invoice's payment reference: the code the customer quotes "
        "when paying.",
    )
    payment_reference_label = fields.Char(
        string="Payment Reference Text",
        compute="_compute_payment_reference_label",
        help="The payment reference, or a sentence saying the invoice has none.",
    )
    internal_note = fields.Html(
        groups=USER_GROUP,
        help="For managers and installment users only: never shown in the "
        "portal nor in emails to the customer.",
    )
    change_ids = fields.One2many(
        "installment.plan.change",
        "plan_id",
        string="Change History",
        readonly=True,
        groups=USER_GROUP,
    )
    schedule_changed_on = fields.Datetime(
        string="Schedule Last Changed",
        compute="_compute_schedule_changed_on",
        groups=USER_GROUP,
    )
    notify_customer = fields.Boolean(
        compute="_compute_notify_customer",
        inverse="_inverse_notify_customer",
        help="On save, email the customer what changed in the schedule (old → new).",
    )

    def _compute_payment_reference_label(self):
        for plan in self:
            plan.payment_reference_label = plan.payment_reference or self.env._(
                "No payment reference"
            )

    @api.depends("change_ids.date")
    def _compute_schedule_changed_on(self):
        last = dict(
            self.env["installment.plan.change"]
            .sudo()
            ._read_group([("plan_id", "in", self.ids)], ["plan_id"], ["date:max"])
        )
        for plan in self:
            plan.schedule_changed_on = last.get(plan.sudo())

    def _compute_notify_customer(self):
        self.notify_customer = True

    def _inverse_notify_customer(self):
        # Read by write() before anything is stored: nothing to keep.
        return

    # ------------------------------------------------------------------
    # Recording and notifying
    # ------------------------------------------------------------------

    def _history_record_edits(self, before):
        """Record the amounts and due dates that differ from ``before``
        (``{line: (amount, due_date)}``) and return the new history rows."""
        vals_list = []
        for plan in self:
            currency = plan.currency_id
            for position, line in enumerate(plan.line_ids.sorted(), start=1):
                if line not in before:
                    continue
                old_amount, old_date = before[line]
                if old_date != line.due_date:
                    vals_list.append(
                        {
                            "plan_id": plan.id,
                            "kind": "date",
                            "line_id": line.id,
                            "position": position,
                            "old_value": format_date(self.env, old_date),
                            "new_value": format_date(self.env, line.due_date),
                        }
                    )
                if currency.compare_amounts(old_amount, line.amount):
                    vals_list.append(
                        {
                            "plan_id": plan.id,
                            "kind": "amount",
                            "line_id": line.id,
                            "position": position,
                            "old_value": currency.format(old_amount),
                            "new_value": currency.format(line.amount),
                        }
                    )
        changes = self.env["installment.plan.change"]._record(vals_list)
        if changes and self.env.context.get(NOTIFY_KEY):
            changes.plan_id._notify_customer_changes(changes)
        return changes

    def _history_watermark(self):
        """The last history row id: the rows written after it are new."""
        self.env["installment.plan.change"].flush_model()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM installment_plan_change")
        return self.env.cr.fetchone()[0]

    def _history_since(self, watermark):
        return (
            self.env["installment.plan.change"]
            .sudo()
            .search([("plan_id", "in", self.ids), ("id", ">", watermark)])
            .sudo(False)
        )

    def web_save(self, vals, specification, next_id=None):
        # The form's Save: the customer is notified unless the user unticked
        # Notify customer (the box is on by default; unchanged, it is not sent).
        vals = dict(vals)
        notify = vals.pop("notify_customer", True)
        return super(
            InstallmentPlan, self.with_context(**{NOTIFY_KEY: notify})
        ).web_save(vals, specification, next_id=next_id)

    def write(self, vals):
        vals = dict(vals)
        notify = vals.pop("notify_customer", self.env.context.get(NOTIFY_KEY))
        if not notify or not self:
            return super().write(vals) if vals else True
        watermark = self._history_watermark()
        # One email per plan and save, however many installments changed.
        result = super(InstallmentPlan, self.with_context(**{NOTIFY_KEY: False})).write(
            vals
        )
        changes = self._history_since(watermark)
        if changes:
            changes.plan_id._notify_customer_changes(changes)
        return result

    def action_cancel(self):
        cancelling = self.filtered(lambda plan: plan.state != "cancelled")
        result = super().action_cancel()
        changes = self.env["installment.plan.change"]._record(
            [{"plan_id": plan.id, "kind": "cancelled"} for plan in cancelling]
        )
        if changes and self.env.context.get(NOTIFY_KEY):
            changes.plan_id._notify_customer_changes(changes)
        return result

    def _history_record_replacements(self):
        """Record on the cancelled plans of these plans' invoices that they
        were replaced by these (new) plans, once."""
        if not self:
            return
        Change = self.env["installment.plan.change"].sudo()
        old_plans = (
            self.env["installment.plan"]
            .sudo()
            .search([("move_id", "in", self.move_id.ids), ("cancelled", "=", True)])
        )
        if not old_plans:
            return
        done = set(
            Change.search(
                [("plan_id", "in", old_plans.ids), ("kind", "=", "replaced")]
            ).plan_id.ids
        )
        new_by_move = {plan.move_id: plan for plan in self}
        self.env["installment.plan.change"]._record(
            [
                {
                    "plan_id": old.id,
                    "kind": "replaced",
                    "new_value": new_by_move[old.move_id]._history_summary(),
                }
                for old in old_plans
                if old.id not in done and old.move_id in new_by_move
            ]
        )

    def _history_summary(self):
        self.ensure_one()
        lines = self.line_ids.sorted()
        return self.env._(
            "%(count)s installments, %(first)s – %(last)s",
            count=len(lines),
            first=format_date(self.env, lines[:1].due_date),
            last=format_date(self.env, lines[-1:].due_date),
        )
