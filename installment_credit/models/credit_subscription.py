# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

# What a user (or the customer through the portal) may change on a subscription.
_USER_WRITABLE = {"auto_renew"}


class CreditSubscription(models.Model):
    """A customer's subscription to a package: the chain of its periods (the
    grants of that package, each renewal starting when the previous one
    expires) and whether it renews by itself.

    One row per (customer, package), created with the first grant of a
    subscription package; it outlives its periods, so *auto-renew* is set once
    and holds for every following period."""

    _name = "credit.subscription"
    _description = "Credit subscription"
    _order = "partner_id, package_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    # A package already sold cannot be deleted (credit.package guard): only
    # subscriptions whose grants were deleted with it go.
    package_id = fields.Many2one(
        "credit.package",
        required=True,
        readonly=True,
        check_company=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    auto_renew = fields.Boolean(
        help="A renewal invoice is created the configured number of days before "
        "the subscription expires (Invoicing > Settings > Credit packages); the "
        "renewed units start when the current ones expire.",
    )
    package_name = fields.Char(related="package_id.name", string="Package name")
    date_expiry = fields.Date(
        string="Current period ends",
        compute="_compute_date_expiry",
        help="Expiry of the latest period sold (running or already renewed).",
    )
    renewal_ids = fields.One2many(
        "credit.subscription.renewal", "subscription_id", string="Renewals"
    )

    _sql_constraints = [
        (
            "partner_package_uniq",
            "unique(partner_id, package_id)",
            "A customer has one subscription per package.",
        ),
    ]

    @api.constrains("package_id")
    def _check_package_kind(self):
        for subscription in self:
            if subscription.package_id.package_kind != "subscription":
                raise ValidationError(
                    _(
                        "Package %(package)s is a recharge: only subscription "
                        "packages can be subscribed to and renewed.",
                        package=subscription.package_id.name,
                    )
                )

    def _compute_date_expiry(self):
        rows = self.env["credit.grant"]._read_group(
            [
                ("partner_id", "in", self.partner_id.ids),
                ("package_id", "in", self.package_id.ids),
                ("state", "in", ("active", "exhausted")),
            ],
            ["partner_id", "package_id"],
            ["date_expiry:max"],
        )
        expiry = {(partner, package): date for partner, package, date in rows}
        for subscription in self:
            subscription.date_expiry = expiry.get(
                (subscription.partner_id, subscription.package_id), False
            )

    @api.depends("partner_id", "package_id")
    def _compute_display_name(self):
        for subscription in self:
            subscription.display_name = _(
                "%(package)s for %(partner)s",
                package=subscription.package_id.name,
                partner=subscription.partner_id.display_name,
            )

    def write(self, vals):
        if not self.env.su and set(vals) - _USER_WRITABLE:
            raise UserError(
                _(
                    "Only auto-renew can be changed on a subscription: its customer "
                    "and package come from the invoices that sold it."
                )
            )
        return super().write(vals)

    @api.model
    def _ensure(self, pairs):
        """Create the subscriptions of these ``(partner, package)`` pairs that do
        not exist yet (concurrent posting safe), and return them all."""
        pairs = {
            (partner.id, package.id, package.company_id.id)
            for partner, package in pairs
        }
        if not pairs:
            return self.browse()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO credit_subscription
                       (partner_id, package_id, company_id, auto_renew,
                        create_uid, create_date, write_uid, write_date)
                SELECT v.partner_id, v.package_id, v.company_id, FALSE,
                       %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s,
                       NOW() AT TIME ZONE 'UTC'
                  FROM (VALUES %(values)s) AS v(partner_id, package_id, company_id)
                ON CONFLICT (partner_id, package_id) DO NOTHING
                """,
                uid=self.env.uid,
                values=SQL(", ").join(SQL("(%s, %s, %s)", *pair) for pair in pairs),
            )
        )
        return self.search(
            [
                ("partner_id", "in", [p[0] for p in pairs]),
                ("package_id", "in", [p[1] for p in pairs]),
            ]
        )

    # ------------------------------------------------------------------
    # Automatic renewal
    # ------------------------------------------------------------------
    @api.model
    def _renewals_due(self, today):
        """``[(subscription id, period end)]`` of the auto-renew subscriptions
        whose latest period ends within their company's renewal window:
        after ``today``, at most ``credit_renewal_days`` days later. One query."""
        self.env["credit.grant"].flush_model()
        self.flush_model()
        return self.env.execute_query(
            SQL(
                """
                SELECT s.id, MAX(g.date_expiry)
                  FROM credit_subscription s
                  JOIN res_company c ON c.id = s.company_id
                  JOIN credit_grant g ON g.partner_id = s.partner_id
                                     AND g.package_id = s.package_id
                                     AND g.company_id = s.company_id
                                     AND g.state IN ('active', 'exhausted')
                 WHERE s.auto_renew
              GROUP BY s.id, c.credit_renewal_days
                HAVING MAX(g.date_expiry) > %(today)s
                   AND MAX(g.date_expiry) <= %(today)s + c.credit_renewal_days
              ORDER BY s.id
                """,
                today=today,
            )
        )

    def _claim_renewal(self, period_end):
        """Claim the renewal of the period ending ``period_end``; return the
        claim, or an empty recordset when it was already renewed."""
        self.ensure_one()
        Renewal = self.env["credit.subscription.renewal"]
        Renewal.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                INSERT INTO credit_subscription_renewal
                       (subscription_id, company_id, period_start,
                        create_uid, create_date, write_uid, write_date)
                VALUES (%(sub)s, %(company)s, %(period)s, %(uid)s,
                        NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC')
                ON CONFLICT (subscription_id, period_start) DO NOTHING
                RETURNING id
                """,
                sub=self.id,
                company=self.company_id.id,
                period=period_end,
                uid=self.env.uid,
            )
        )
        self.invalidate_recordset(["renewal_ids"])
        return Renewal.browse([row[0] for row in rows])

    def _renew(self, period_end, today):
        """Renew this subscription for the period starting ``period_end``:
        a renewal invoice dated ``today``, posted and emailed or left in draft
        (company setting). Return the invoice, or None when that period was
        already renewed. A posting refused leaves the invoice in draft with
        the reason in its chatter."""
        self.ensure_one()
        claim = self._claim_renewal(period_end)
        if not claim:
            return None
        company = self.company_id
        partner = self.partner_id.with_company(company)
        invoice = partner._credit_new_package_invoice(self.package_id, today)
        claim.move_id = invoice
        invoice.message_post(
            body=_(
                "Automatic renewal of %(package)s: the renewed units start on "
                "%(date)s, when the current ones expire.",
                package=self.package_id.name,
                date=period_end,
            )
        )
        if company.credit_renewal_mode != "post":
            return invoice
        try:
            with self.env.cr.savepoint():
                invoice.action_post()
        except (UserError, ValidationError) as error:
            invoice.message_post(
                body=_(
                    "The automatic renewal could not be posted, the invoice is left "
                    "in draft: %(error)s",
                    error=error.args[0],
                )
            )
            return invoice
        template = self.env.ref(
            "account.email_template_edi_invoice", raise_if_not_found=False
        )
        if template and invoice.partner_id.email:
            invoice.with_context(lang=invoice.partner_id.lang).message_post_with_source(
                template,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            invoice.is_move_sent = True
        return invoice

    @api.model
    def _cron_auto_renew(self, batch_size=50):
        """Daily: renewal invoices of the auto-renew subscriptions entering their
        renewal window. Once per period (the renewal claim is unique per
        subscription and period), so running twice or after skipped days never
        renews twice; each subscription in its own savepoint, committed by
        batches, a failure logged and the run going on."""
        today = fields.Date.context_today(self)
        model = self.sudo()
        due = model._renewals_due(today)
        guard = self.env["installment.batch.guard"]
        what = _("Automatic renewal")
        failures = []
        for index, (subscription_id, period_end) in enumerate(due, start=1):
            subscription = model.browse(subscription_id)
            subscription = subscription.with_company(subscription.company_id)
            # One subscription at a time: a failure is logged, noted on the
            # customer and skipped (the guard of every scheduled action).
            failures += guard._run_isolated(
                subscription.partner_id,
                lambda _partner, sub=subscription, end=period_end: sub._renew(
                    end, today
                ),
                what,
            )
            if index % batch_size == 0 or index == len(due):
                self.env["ir.cron"]._notify_progress(
                    done=index, remaining=len(due) - index
                )
                if guard._auto_commit():
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        guard._raise_if_skipped(failures, what, done=len(due))
        return due


class CreditSubscriptionRenewal(models.Model):
    """The claim of one automatic renewal: unique per subscription and period,
    written before the invoice is created, so a period is never renewed twice."""

    _name = "credit.subscription.renewal"
    _description = "Credit subscription renewal"
    _order = "period_start desc, id desc"
    _check_company_auto = True

    subscription_id = fields.Many2one(
        "credit.subscription", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    period_start = fields.Date(
        required=True, readonly=True, help="First day of the renewed period."
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", readonly=True, check_company=True
    )

    _sql_constraints = [
        (
            "period_uniq",
            "unique(subscription_id, period_start)",
            "A subscription period is renewed once.",
        ),
    ]
