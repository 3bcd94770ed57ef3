from odoo import api, fields, models

CHANGE_KINDS = [
    ("amount", "Amount changed"),
    ("date", "Due date changed"),
    ("added", "Installment added"),
    ("removed", "Installment removed"),
    ("cancelled", "Plan cancelled"),
    ("replaced", "Plan replaced"),
]


class InstallmentPlanChange(models.Model):
    """One change of a plan's schedule, as the customer would care about it.

    Written only by the plan's own ORM paths (installment edits, added or
    removed installments, cancellation, replacement), as the user who made
    the change, through ``sudo()``: nobody writes, edits or deletes a row
    by hand. Back-office users read them; portal users see their own plan's
    history through the portal controller only (no portal access right).
    """

    _name = "installment.plan.change"
    _description = "Installment Plan Change"
    _order = "date desc, id desc"

    plan_id = fields.Many2one(
        "installment.plan",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one(
        "res.users", string="Changed By", readonly=True, default=lambda s: s.env.user
    )
    kind = fields.Selection(CHANGE_KINDS, required=True, readonly=True)
    line_id = fields.Many2one(
        "installment.plan.line",
        string="Installment",
        readonly=True,
        ondelete="set null",
    )
    position = fields.Integer(
        string="Installment #",
        readonly=True,
        help="The installment's position in the schedule when it changed.",
    )
    old_value = fields.Char(string="Before", readonly=True)
    new_value = fields.Char(string="After", readonly=True)

    @api.model
    def _record(self, vals_list):
        """Write history rows (list of dicts) as the current user."""
        if not vals_list:
            return self
        user = self.env.user
        return (
            self.sudo()
            .create([dict(vals, user_id=user.id) for vals in vals_list])
            .sudo(False)
        )

    def _describe(self):
        """One sentence per change, in the reader's language."""
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        result = []
        for change in self:
            what = kinds[change.kind]
            if change.position:
                what = self.env._(
                    "Installment %(position)s: %(kind)s",
                    position=change.position,
                    kind=what,
                )
            if change.old_value or change.new_value:
                what = "%s: %s → %s" % (
                    what,
                    change.old_value or "—",
                    change.new_value or "—",
                )
            result.append(what)
        return result
