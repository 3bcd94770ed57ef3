from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal import InstallmentPortal


class CreditPortal(InstallmentPortal):
    """``/my/credits``: the customer's credit balances and consumption history.

    Grants and consumptions are read as the portal user (record rules of
    ``security/ir_rule.xml`` restrict them to the user's commercial
    partner). The prepaid balance and auto top-up settings are accounting
    fields: they are read with sudo on the user's own commercial partner only.
    """

    _consumptions_per_page = 20

    def _credit_partner(self):
        return request.env.user.partner_id.commercial_partner_id

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "credit_count" in counters:
            Grant = request.env["credit.grant"]
            values["credit_count"] = (
                len(
                    Grant._read_group(
                        [
                            ("partner_id", "=", self._credit_partner().id),
                            ("state", "=", "active"),
                        ],
                        ["credit_type_id"],
                    )
                )
                if Grant.has_access("read")
                else 0
            )
        return values

    @http.route(
        ["/my/credits", "/my/credits/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_credits(self, page=1, **kw):
        Consumption = request.env["credit.consumption"]
        if not Consumption.has_access("read"):
            return request.redirect("/my")
        partner = self._credit_partner()
        status = partner.get_credit_status()
        types = request.env["credit.type"].browse([s["credit_type_id"] for s in status])
        domain = [("partner_id", "=", partner.id)]
        pager = portal_pager(
            url="/my/credits",
            total=Consumption.search_count(domain),
            page=page,
            step=self._consumptions_per_page,
        )
        consumptions = Consumption.search(
            domain,
            order="date desc, id desc",
            limit=self._consumptions_per_page,
            offset=pager["offset"],
        )
        # Ownership: ``partner`` is the logged-in user's own commercial partner
        # and the consumptions were searched as the portal user; their
        # reference is an internal field (groups), shown on this page only.
        consumptions = consumptions.sudo()
        billing = partner.sudo()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "credits",
                "credit_status": [
                    dict(entry, credit_type=ctype)
                    for entry, ctype in zip(status, types, strict=True)
                ],
                "consumptions": consumptions,
                "pager": pager,
                "billing_partner": billing,
                "show_prepaid": billing.billing_mode == "prepaid",
                "subscriptions": request.env["credit.subscription"].search(
                    [("partner_id", "=", partner.id)]
                ),
            }
        )
        return request.render("installment_credit.portal_my_credits", values)

    @http.route(
        "/my/credits/subscription/<int:subscription_id>/auto_renew",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_credit_auto_renew(self, subscription_id, auto_renew=None, **kw):
        """Turn automatic renewal of one of the customer's own subscriptions on
        or off. CSRF-checked (POST form); a subscription of another customer,
        or one the user cannot read, is a 404."""
        subscription = (
            request.env["credit.subscription"]
            .search([("id", "=", subscription_id)])
            .filtered(lambda s: s.partner_id == self._credit_partner())
        )
        if not subscription:
            raise NotFound()
        # Ownership checked above; portal users have no write access.
        subscription.sudo().auto_renew = bool(auto_renew)
        return request.redirect("/my/credits")
