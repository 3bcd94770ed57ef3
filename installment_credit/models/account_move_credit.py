from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date


class AccountMove(models.Model):
    """Credit packages sold on invoices: grants at posting (or payment),
    units taken back by credit notes and by a reset to draft."""

    _inherit = "account.move"

    credit_grant_ids = fields.One2many(
        "credit.grant",
        "move_id",
        string="Credit grants",
        readonly=True,
        groups="installment_credit.group_installment_user",
    )
    credit_grant_count = fields.Integer(
        compute="_compute_credit_grant_count",
        groups="installment_credit.group_installment_user",
    )

    def _compute_credit_grant_count(self):
        counts = dict(
            self.env["credit.grant"]._read_group(
                [("move_id", "in", self.ids)], ["move_id"], ["__count"]
            )
        )
        for move in self:
            move.credit_grant_count = counts.get(move, 0)

    @api.readonly
    def action_view_credit_grants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "installment_credit.credit_grant_action"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _credit_after_post(self):
        """Grants for package invoices (posted mode), cancellations for their
        credit notes."""
        posted = self
        invoices = posted.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.company_id.credit_availability == "posted"
            )
        )
        invoices._credit_create_grants()
        # Every credit note, reversal or typed by hand: a credit note is one.
        refunds = posted.filtered(lambda m: m.move_type == "out_refund")
        refunds._credit_cancel_refunded()

    def _invoice_paid_hook(self):
        # Odoo calls this hook once per transition to paid / in payment, from
        # the reconciliation itself (payment, statement line, manual matching):
        # more robust than watching the stored payment_state, which the ORM
        # recomputes without going through write(). Idempotent per invoice line
        # (lines already granted only get back units withdrawn while unpaid), so
        # in_payment -> paid and unreconcile + reconcile never grant twice.
        # The way back is account.partial.reconcile.unlink ->
        # _credit_withdraw_unpaid.
        res = super()._invoice_paid_hook()
        self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.company_id.credit_availability == "paid"
            )
        )._credit_create_grants()
        return res

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _credit_package_lines(self):
        """Map invoice line -> credit.package for lines selling a package."""
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id
        )
        if not lines:
            return {}
        by_product = self.env["credit.package"]._by_product(lines.product_id)
        return {
            line: by_product[line.product_id]
            for line in lines
            if line.product_id in by_product
        }

    def _credit_check_packages(self):
        """Before posting: packages sold must be sellable, recharges need a
        running subscription of each of their types."""
        Grant = self.env["credit.grant"].sudo()
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            for line, package in move._credit_package_lines().items():
                package._check_sellable()
                if line.quantity <= 0:
                    raise UserError(
                        _(
                            "Invoice %(invoice)s sells %(qty)s of package %(package)s: "
                            "sell a positive quantity (use a credit note to take "
                            "units back).",
                            invoice=move.display_name,
                            qty=line.quantity,
                            package=package.name,
                        )
                    )
                if package.company_id != move.company_id:
                    raise UserError(
                        _(
                            "Package %(package)s belongs to company %(company)s: "
                            "sell it from that company.",
                            package=package.name,
                            company=package.company_id.name,
                        )
                    )
                if package.package_kind != "recharge":
                    continue
                date = move.invoice_date or fields.Date.context_today(self)
                # A subscription sold on the same invoice is granted first and
                # the recharge attaches to it (_credit_create_grants).
                sold_here = move._credit_subscription_types()
                for ctype in package.line_ids.credit_type_id - sold_here:
                    if not Grant._current_subscription_expiry(
                        move.commercial_partner_id, ctype, move.company_id, date
                    ):
                        raise UserError(
                            _(
                                "Recharge %(package)s on %(invoice)s adds %(type)s "
                                "to the current subscription of %(partner)s, who "
                                "has none on %(date)s: sell a subscription first.",
                                package=package.name,
                                invoice=move.display_name,
                                type=ctype.name,
                                partner=move.commercial_partner_id.display_name,
                                date=format_date(self.env, date),
                            )
                        )

    def _credit_subscription_types(self):
        """Credit types of the subscription packages sold on this invoice."""
        self.ensure_one()
        return self.env["credit.type"].union(
            *(
                package.line_ids.credit_type_id
                for line, package in self._credit_package_lines().items()
                if package.package_kind == "subscription" and line.quantity > 0
            )
        )

    def _credit_refunded_quantities(self):
        """Package quantities already refunded by posted credit notes."""
        self.ensure_one()
        refunded = defaultdict(float)
        for refund in self.reversal_move_ids.filtered(lambda m: m.state == "posted"):
            for line, package in refund._credit_package_lines().items():
                refunded[package] += line.quantity
        return refunded

    def _credit_create_grants(self):
        """Create the grants of the packages sold on these posted invoices.

        Idempotent per invoice line: a line that already has grants (other than
        those released by a reset to draft) gets no new ones, only the units
        withdrawn while its invoice was unpaid back. Net of credit notes posted
        before (availability on payment)."""
        Grant = self.env["credit.grant"].sudo()
        lines_by_move = {move: move._credit_package_lines() for move in self}
        # Partners first (the one lock order), only those buying packages.
        Grant._lock_partners(
            self.filtered(lambda m: lines_by_move[m]).commercial_partner_id
        )
        for move in self:
            package_lines = lines_by_move[move]
            if not package_lines:
                continue
            granted = Grant.search(
                [
                    ("move_line_id", "in", [line.id for line in package_lines]),
                    ("released", "=", False),
                ]
            )
            done_lines = granted.move_line_id
            granted.filtered("quantity_withdrawn")._restore_withdrawn()
            refunded = move._credit_refunded_quantities()
            partner = move.commercial_partner_id
            date = move.invoice_date or move.date
            vals_list = []
            # Subscriptions first, created before the recharges are dated: a
            # recharge sold with its subscription attaches to it.
            ordered = sorted(
                package_lines.items(),
                key=lambda item: (item[1].package_kind != "subscription", item[0].id),
            )
            for line, package in ordered:
                if package.package_kind == "recharge" and vals_list:
                    Grant.create(vals_list)
                    Grant.flush_model()
                    vals_list = []
                sold = line.quantity
                if refunded[package] > 0:
                    taken = min(sold, refunded[package])
                    refunded[package] -= taken
                    sold -= taken
                if line in done_lines or sold <= 0:
                    continue
                if package.package_kind == "subscription":
                    start = Grant._subscription_chain_start(partner, package, date)
                    expiry = package._get_expiry(start)
                for pline in package.line_ids:
                    ctype = pline.credit_type_id
                    if package.package_kind == "recharge":
                        start = date
                        # The subscription may have ended between posting and
                        # payment: the recharge then lives its own validity.
                        expiry = Grant._current_subscription_expiry(
                            partner, ctype, move.company_id, date
                        ) or package._get_expiry(date)
                    quantity = ctype._round(pline.quantity * sold)
                    if ctype._compare(quantity, 0.0) <= 0:
                        continue
                    vals_list.append(
                        {
                            "partner_id": partner.id,
                            "company_id": move.company_id.id,
                            "credit_type_id": ctype.id,
                            "package_id": package.id,
                            "move_line_id": line.id,
                            "move_id": move.id,
                            "quantity": quantity,
                            "date_start": start,
                            "date_expiry": expiry,
                        }
                    )
            if vals_list:
                Grant.create(vals_list)
                Grant.flush_model()
            # The subscription notion (auto-renew) of each package subscribed.
            self.env["credit.subscription"].sudo()._ensure(
                (partner, package)
                for package in package_lines.values()
                if package.package_kind == "subscription"
            )

    def _credit_refund_candidates(self):
        """Grants a posted credit note takes units back from, locked: those of
        the invoice it reverses, or for a credit note typed by hand the
        customer's grants of the packages it credits. ``None`` for a reversal
        of an invoice not granted yet (availability on payment: the refunded
        quantity is deducted when the invoice gets paid)."""
        self.ensure_one()
        Grant = self.env["credit.grant"].sudo()
        invoice = self.reversed_entry_id
        if invoice:
            grants = invoice.sudo().credit_grant_ids.filtered(lambda g: not g.released)
            if not grants:
                return None
        else:
            grants = Grant.search(
                [
                    ("partner_id", "=", self.commercial_partner_id.id),
                    ("company_id", "=", self.company_id.id),
                    (
                        "package_id",
                        "in",
                        [p.id for p in self._credit_package_lines().values()],
                    ),
                    ("released", "=", False),
                    "|",
                    ("state", "=", "active"),
                    ("quantity_withdrawn", ">", 0),
                ]
            )
        return grants._lock_for_update()

    def _credit_cancel_refunded(self):
        """Take back the unused units these credit notes refund, latest expiry
        first, refusing when the customer already consumed more than what
        remains. A reversal takes them from the invoice it reverses, a credit
        note typed by hand from the customer's grants of the same package."""
        lines_by_refund = {refund: refund._credit_package_lines() for refund in self}
        # All partners first (the one lock order), then each refund's grants.
        self.env["credit.grant"]._lock_partners(
            self.filtered(lambda m: lines_by_refund[m]).commercial_partner_id
        )
        for refund in self:
            package_lines = lines_by_refund[refund]
            if not package_lines:
                continue
            grants = refund._credit_refund_candidates()
            if grants is None:
                continue
            origin = refund.reversed_entry_id.display_name or _(
                "the invoices of %(partner)s",
                partner=refund.commercial_partner_id.display_name,
            )
            to_cancel = defaultdict(float)
            for line, package in package_lines.items():
                for pline in package.line_ids:
                    to_cancel[package, pline.credit_type_id] += (
                        pline.quantity * line.quantity
                    )
            for (package, ctype), quantity in to_cancel.items():
                quantity = ctype._round(quantity)
                candidates = grants.filtered(
                    lambda g, p=package, t=ctype: (
                        g.package_id == p and g.credit_type_id == t
                    )
                )
                available = ctype._round(candidates._available_to_take_back())
                if ctype._compare(quantity, available) > 0:
                    raise UserError(
                        _(
                            "Credit note %(refund)s cancels %(qty)s %(unit)s of "
                            "%(type)s sold on %(invoice)s, but only %(available)s "
                            "%(unit)s remain unused (the rest was consumed or has "
                            "expired). Reduce the quantity refunded.",
                            refund=refund.display_name,
                            qty=ctype._format(quantity),
                            unit=ctype.unit_name,
                            type=ctype.name,
                            invoice=origin,
                            available=ctype._format(available),
                        )
                    )
                candidates._take_back(quantity)

    def _credit_release_on_draft(self):
        """Resetting to draft withdraws the invoice's unused units; refused once
        some were consumed, or for a credit note that took units back."""
        moves = self.filtered(lambda m: m.state == "posted")
        grants = moves.sudo().credit_grant_ids.filtered(lambda g: not g.released)
        if grants:
            # Partners, then grants, by id.
            grants._lock_for_update()
            used = grants.filtered(
                lambda g: not g.credit_type_id._is_zero(g.quantity_consumed)
            )
            if used:
                raise UserError(
                    _(
                        "Units sold on %(invoice)s were already consumed: the "
                        "invoice cannot be reset to draft. Issue a credit note for "
                        "the unused units instead.",
                        invoice=used[0].move_id.display_name,
                    )
                )
            for grant in grants:
                grant.write(
                    {
                        "quantity_cancelled": grant.quantity,
                        "quantity_withdrawn": 0.0,
                        "released": True,
                    }
                )
        # Once units were taken back for a credit note (from the invoice it
        # reverses, or from the customer's grants when typed by hand), or the
        # invoice was granted net of it (availability on payment), they cannot
        # be traced back to it.
        refunds = moves.filtered(
            lambda m: (
                m.move_type == "out_refund"
                and m._credit_package_lines()
                and (
                    not m.reversed_entry_id
                    or m.reversed_entry_id.sudo().credit_grant_ids
                )
            )
        )
        if refunds:
            raise UserError(
                _(
                    "Credit note %(refund)s took back credit units: it cannot be "
                    "reset to draft. Sell the package again on a new invoice.",
                    refund=refunds[0].display_name,
                )
            )

    def _credit_withdraw_unpaid(self):
        """Availability on payment: withdraw the unused units of these invoices
        when they are no longer paid (a payment unreconciled, cancelled or reset
        to draft). Consumed and expired units stay as they are; the withdrawn
        ones come back when the invoice is paid again (``_credit_create_grants``).
        Called after any reconciliation is removed."""
        invoices = self.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.company_id.credit_availability == "paid"
            )
        )
        if not invoices:
            return
        grants = (
            self.env["credit.grant"]
            .sudo()
            .search(
                [
                    ("move_id", "in", invoices.ids),
                    ("released", "=", False),
                    ("state", "=", "active"),
                    # Expired units are breakage, swept yet or not.
                    ("date_expiry", ">", fields.Date.context_today(self)),
                ]
            )
        )
        grants = grants.filtered(
            lambda g: g.move_id.payment_state not in ("paid", "in_payment")
        )
        if not grants:
            return
        grants._lock_for_update()
        for grant in grants.filtered(lambda g: g.state == "active"):
            ctype = grant.credit_type_id
            take = grant.quantity_remaining
            grant.write(
                {
                    "quantity_cancelled": ctype._round(grant.quantity_cancelled + take),
                    "quantity_withdrawn": ctype._round(grant.quantity_withdrawn + take),
                }
            )
