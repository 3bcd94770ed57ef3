from odoo import Command, _, api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    credit_grant_ids = fields.One2many(
        "credit.grant",
        "partner_id",
        string="Credit grants",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_consumption_ids = fields.One2many(
        "credit.consumption",
        "partner_id",
        string="Credit consumptions",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_balance_ids = fields.One2many(
        "credit.report.balance",
        "partner_id",
        string="Credit balance",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_subscription_ids = fields.One2many(
        "credit.subscription",
        "partner_id",
        string="Subscriptions",
        groups="installment_credit.group_installment_user",
    )
    credit_grant_count = fields.Integer(
        string="Credits",
        compute="_compute_credit_grant_count",
        groups="installment_credit.group_installment_user",
    )

    def _compute_credit_grant_count(self):
        counts = dict(
            self.env["credit.grant"]._read_group(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("state", "=", "active"),
                ],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.credit_grant_count = counts.get(partner.commercial_partner_id, 0)

    # ------------------------------------------------------------------
    # Service API
    # ------------------------------------------------------------------
    @api.returns("credit.consumption", lambda consumption: consumption.id)
    def consume_credits(
        self,
        credit_type,
        quantity,
        reference=None,
        idempotency_key=None,
        date=None,
        description=None,
    ):
        """Spend ``quantity`` units of ``credit_type`` for this customer.

        Units come from the customer's active grants usable on ``date``, nearest
        expiry first, then oldest start (FEFO). The grants are locked for the
        rest of the transaction, so concurrent calls for the same customer and
        type serialize and can never overdraw.

        :param credit_type: ``credit.type`` record, id or code (active).
        :param float quantity: positive, a multiple of the type's rounding.
        :param reference: free text, or a record (stored as a link to it).
        :param str idempotency_key: unique per company; calling again with the
            same key and the same customer, type and quantity returns the first
            consumption and spends nothing more.
        :param date: consumption date (a date or ``YYYY-MM-DD``), today or
            earlier (default: today); a
            past date uses only grants valid on that date and not expired today.
        :param str description: optional label.
        :return: the ``credit.consumption`` record (its id over XML-RPC and
            JSON-RPC).
        :raises UserError: bad quantity, a date in the future, archived type,
            no grants of that type,
            not enough units (the message gives requested and available), or a
            key reused for a different request. Nothing is written then.
        """
        self.ensure_one()
        return self.env["credit.consumption"]._consume(
            self,
            credit_type,
            quantity,
            reference=reference,
            idempotency_key=idempotency_key,
            date=date,
            description=description,
        )

    @api.model
    def _credit_resolve_customers(self, keys):
        """Map customer keys given by another system (an id, or the customer's
        ``ref``) to commercial partners the user may read, in one query per
        kind of key. Unknown keys are left out; a ``ref`` shared by several
        customers maps to ``None`` (ambiguous)."""
        ids = {k for k in keys if isinstance(k, int) and not isinstance(k, bool)}
        refs = {k for k in keys if isinstance(k, str) and k}
        found = {}
        if ids:
            for partner in self.search([("id", "in", list(ids))]):
                found[partner.id] = partner.commercial_partner_id
        if refs:
            by_ref = {}
            for partner in self.search([("ref", "in", list(refs))]):
                by_ref.setdefault(partner.ref, set()).add(partner.commercial_partner_id)
            for ref, partners in by_ref.items():
                found[ref] = partners.pop() if len(partners) == 1 else None
        return found

    @api.model
    def _credit_status_for(self, partners, date=None):
        """Per (commercial partner, credit type): ``remaining`` units usable on
        ``date`` (what a consumption dated then may spend), ``next_expiry`` and
        ``next_expiry_quantity``, ``upcoming`` (subscriptions already sold for a
        later period), ``consumed_this_month`` (month of ``date``). One query,
        the Credit Balance report's (``credit.report.balance._status_query``)."""
        return self.env["credit.report.balance"]._status_by_partner_type(partners, date)

    @api.readonly
    def get_credit_status(self, date=None):
        """Status of this customer's credits on ``date`` (default: today), one
        dict per credit type: ``credit_type_id``, ``remaining`` (usable on that
        date), ``next_expiry``, ``next_expiry_quantity``, ``upcoming`` (units
        of grants starting later), ``consumed_this_month``, and the type's
        ``credit_type_code``, ``credit_type_name`` and ``unit``. Dates are
        ``date`` objects in Python, ``YYYY-MM-DD`` strings over RPC."""
        self.ensure_one()
        status = self._credit_status_for(self, date)
        return [
            dict(
                values,
                credit_type_id=ctype.id,
                credit_type_code=ctype.code or False,
                credit_type_name=ctype.name,
                unit=ctype.unit_name,
            )
            for (_partner, ctype), values in sorted(
                status.items(), key=lambda item: item[0][1].name
            )
        ]

    # ------------------------------------------------------------------
    # Selling packages
    # ------------------------------------------------------------------
    def _credit_new_package_invoice(self, package, date=None):
        """Create and return a draft customer invoice selling ``package`` on
        ``date`` (default: today), at the package's price."""
        self.ensure_one()
        package._check_sellable()
        return (
            self.env["account.move"]
            .with_company(package.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.commercial_partner_id.id,
                    "invoice_date": date or fields.Date.context_today(self),
                    "invoice_line_ids": [
                        Command.create({"product_id": package.product_id.id})
                    ],
                }
            )
        )

    def _credit_create_package_invoice(self, package):
        """Create a draft customer invoice selling ``package`` and open it."""
        invoice = self._credit_new_package_invoice(package)
        return invoice._get_records_action(context={})

    def _credit_open_sell_wizard(self, kind):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_package_sell_action"
        )
        action["name"] = _("Renew") if kind == "subscription" else _("Recharge")
        action["context"] = {
            "default_partner_id": self.commercial_partner_id.id,
            "default_package_kind": kind,
        }
        return action

    @api.readonly
    def action_credit_renew(self):
        return self._credit_open_sell_wizard("subscription")

    @api.readonly
    def action_credit_recharge(self):
        return self._credit_open_sell_wizard("recharge")

    @api.readonly
    def action_credit_register_consumption(self):
        self.ensure_one()
        context = {"default_partner_id": self.commercial_partner_id.id}
        types = self.env["credit.grant"]._read_group(
            [
                ("partner_id", "=", self.commercial_partner_id.id),
                ("state", "=", "active"),
                ("company_id", "=", self.env.company.id),
            ],
            ["credit_type_id"],
        )
        if len(types) == 1:
            # One type in use: propose it.
            context["default_credit_type_id"] = types[0][0].id
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_consumption_register_action"
        )
        action["context"] = context
        return action

    @api.readonly
    def action_view_credit_grants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_grant_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_filter_active": 1,
        }
        return action
