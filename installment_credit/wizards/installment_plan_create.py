from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round, format_date

from ..tools import schedule


class InstallmentPlanCreate(models.TransientModel):
    """The "Installments" wizard of the invoice form: a front end for
    ``account.move.create_installment_plan`` with a live preview."""

    _name = "installment.plan.create"
    _description = "Create Installment Plan"

    move_id = fields.Many2one("account.move", required=True, readonly=True)
    company_id = fields.Many2one(related="move_id.company_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_due = fields.Monetary(related="move_id.amount_residual", string="Amount Due")
    mode = fields.Selection(
        [
            ("even", "Number of installments"),
            ("fixed", "Fixed amount"),
            ("manual", "By hand"),
        ],
        required=True,
        default="even",
    )
    count = fields.Integer(string="Number of Installments", default=3)
    installment_amount = fields.Monetary()
    interval_number = fields.Integer(string="Every", default=1)
    interval_unit = fields.Selection(
        [("day", "Days"), ("week", "Weeks"), ("month", "Months")],
        default="month",
        required=True,
    )
    first_due_date = fields.Date()
    line_ids = fields.One2many(
        "installment.plan.create.line", "wizard_id", string="Installments"
    )
    amount_to_allocate = fields.Monetary(
        string="Left to Allocate", compute="_compute_amount_to_allocate"
    )
    preview_html = fields.Html(compute="_compute_preview", sanitize=False)
    preview_error = fields.Char(compute="_compute_preview")
    early_warning = fields.Char(
        compute="_compute_preview",
        help="Set when an installment would be due before the invoice date.",
    )
    accept_early = fields.Boolean(
        string="Confirm the dates before the invoice date",
        help="Installments due before the invoice date are late as soon as the "
        "plan is created. Only Installments managers can confirm them.",
    )
    notify_customer = fields.Boolean(
        string="Send to Customer",
        default=True,
        help="Email the customer the schedule (PDF attached) and the link to "
        "their portal page.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        move = self.env["account.move"].browse(
            values.get("move_id") or self.env.context.get("default_move_id")
        )
        if move:
            values.update(move._installment_wizard_defaults())
            if not values.get("installment_amount") and values.get("count"):
                # Fixed amount starts at the even split, not at 0.00
                # rounded up: rounding down would add a last cent installment
                values["installment_amount"] = float_round(
                    move.amount_residual / values["count"],
                    precision_rounding=move.currency_id.rounding,
                    rounding_method="UP",
                )
        return values

    @api.depends("line_ids.amount", "amount_due", "mode")
    def _compute_amount_to_allocate(self):
        for wizard in self:
            allocated = sum(wizard.line_ids.mapped("amount"))
            wizard.amount_to_allocate = wizard.currency_id.round(
                wizard.amount_due - allocated
            )

    def _schedule_kwargs(self):
        self.ensure_one()
        if self.mode == "manual":
            return {
                "lines": [(line.due_date, line.amount) for line in self.line_ids],
            }
        return {
            "count": self.count if self.mode == "even" else None,
            "installment_amount": self.installment_amount
            if self.mode == "fixed"
            else None,
            "interval_number": self.interval_number,
            "interval_unit": self.interval_unit,
            "first_due_date": self.first_due_date,
        }

    @api.depends(
        "mode",
        "count",
        "installment_amount",
        "interval_number",
        "interval_unit",
        "first_due_date",
        "line_ids.due_date",
        "line_ids.amount",
    )
    def _compute_preview(self):
        for wizard in self:
            wizard.preview_html = False
            wizard.preview_error = False
            wizard.early_warning = False
            if not wizard.move_id:
                continue
            if wizard.mode == "manual":
                wizard.early_warning = wizard._early_warning(
                    wizard.line_ids.mapped("due_date")
                )
            if wizard.mode == "manual" and not wizard.line_ids:
                wizard.preview_error = _("Add installments until nothing is left.")
                continue
            try:
                values = wizard.move_id._installment_compute_schedule(
                    **wizard._schedule_kwargs()
                )
            except UserError as error:
                wizard.preview_error = error.args[0]
                continue
            if wizard.mode != "manual":
                wizard.early_warning = wizard._early_warning(
                    [due_date for due_date, _amount in values]
                )
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s%s</td><td class='text-end'>%s</td></tr>")
                % (
                    index,
                    format_date(self.env, due_date),
                    wizard._preview_moved_mark(moved_from),
                    wizard.currency_id.format(amount),
                )
                for index, ((due_date, amount), moved_from) in enumerate(
                    zip(values, wizard._preview_moved_from(values), strict=True),
                    start=1,
                )
            )
            wizard.preview_html = Markup(
                "<table class='table table-sm o_installment_preview'>"
                "<thead><tr><th>#</th><th>%s</th><th class='text-end'>%s</th></tr>"
                "</thead><tbody>%s</tbody></table>"
            ) % (_("Due Date"), _("Amount"), rows)

    def _preview_moved_from(self, values):
        """For each previewed installment, the date the company's working-day
        policy moved it from, or ``None`` (dates typed by hand are kept)."""
        self.ensure_one()
        if self.mode == "manual":
            return [None] * len(values)
        raw = schedule.generate_dates(
            self.first_due_date, len(values), self.interval_number, self.interval_unit
        )
        return [
            moved_from
            for _due, moved_from in schedule.moved_dates(
                raw, [due for due, _amount in values]
            )
        ]

    def _preview_moved_mark(self, moved_from):
        if not moved_from:
            return ""
        return Markup(" <small class='text-muted o_installment_moved'>%s</small>") % _(
            "(moved from %s, a non-working day)", format_date(self.env, moved_from)
        )

    def _early_warning(self, due_dates):
        """What to tell the user when some of ``due_dates`` fall before the
        invoice date (the plan would be late at once), else ``False``."""
        self.ensure_one()
        invoice_date = self.move_id.invoice_date
        dates = sorted(date for date in due_dates if date)
        early = [date for date in dates if invoice_date and date < invoice_date]
        if not early:
            return False
        values = {
            "count": len(early),
            "date": format_date(self.env, early[0]),
            "invoice_date": format_date(self.env, invoice_date),
        }
        if not self.env.user.has_group("installment_credit.group_installment_manager"):
            return _(
                "%(count)s installment(s) due before the invoice date (first: "
                "%(date)s; invoice date %(invoice_date)s) would be late at once. "
                "Choose a first due date on or after the invoice date, or ask an "
                "Installments manager.",
                **values,
            )
        return _(
            "%(count)s installment(s) due before the invoice date (first: "
            "%(date)s; invoice date %(invoice_date)s) will be late at once. Tick "
            '"Confirm the dates before the invoice date" to create the plan '
            "anyway, or choose a later first due date.",
            **values,
        )

    def action_confirm(self):
        self.ensure_one()
        if self.early_warning and not (
            self.accept_early
            and self.env.user.has_group("installment_credit.group_installment_manager")
        ):
            raise UserError(self.early_warning)
        if self.mode == "manual" and not self.currency_id.is_zero(
            self.amount_to_allocate
        ):
            raise UserError(
                _(
                    "%(amount)s is still left to allocate: add or change installments "
                    "until nothing is left.",
                    amount=self.currency_id.format(self.amount_to_allocate),
                )
            )
        plan = self.move_id.create_installment_plan(
            **self._schedule_kwargs(), notify_customer=self.notify_customer
        )
        return plan._get_records_action(context={})


class InstallmentPlanCreateLine(models.TransientModel):
    _name = "installment.plan.create.line"
    _description = "Create Installment Plan: Manual Installment"
    _order = "due_date, id"

    wizard_id = fields.Many2one(
        "installment.plan.create", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    due_date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
