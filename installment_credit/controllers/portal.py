from odoo import _, http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager


class InstallmentPortal(CustomerPortal):
    """Portal pages for installment plans.

    Everything is read as the portal user: the record rules of
    ``security/ir_rule.xml`` restrict plans and installments to the
    user's commercial partner, so no ``sudo()`` is needed here.
    """

    _installments_per_page = 10

    def _installment_domain(self):
        return [
            ("partner_id", "=", request.env.user.partner_id.commercial_partner_id.id),
            ("state", "in", ("active", "paid")),
        ]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "installment_count" in counters:
            Plan = request.env["installment.plan"]
            values["installment_count"] = (
                Plan.search_count(self._installment_domain())
                if Plan.has_access("read")
                else 0
            )
        return values

    def _installment_sortings(self):
        return {
            "next_due": {"label": _("Next Due Date"), "order": "next_due_date asc, id"},
            "late": {"label": _("Late Amount"), "order": "amount_late desc, id"},
            "invoice": {"label": _("Invoice"), "order": "move_id desc"},
        }

    @http.route(
        ["/my/installments", "/my/installments/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_installments(self, page=1, sortby=None, **kw):
        Plan = request.env["installment.plan"]
        if not Plan.has_access("read"):
            return request.redirect("/my")
        sortings = self._installment_sortings()
        sortby = sortby if sortby in sortings else "next_due"
        domain = self._installment_domain()
        pager = portal_pager(
            url="/my/installments",
            url_args={"sortby": sortby},
            total=Plan.search_count(domain),
            page=page,
            step=self._installments_per_page,
        )
        plans = Plan.search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._installments_per_page,
            offset=pager["offset"],
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "plans": plans,
                "page_name": "installments",
                "pager": pager,
                "default_url": "/my/installments",
                "searchbar_sortings": sortings,
                "sortby": sortby,
            }
        )
        return request.render("installment_credit.portal_my_installments", values)

    @http.route(
        ["/my/installments/<int:plan_id>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_installment_plan(self, plan_id, **kw):
        plan = request.env["installment.plan"].browse(plan_id).exists()
        try:
            # Record rules decide: another customer's plan raises AccessError.
            plan.check_access("read")
        except (AccessError, MissingError):
            raise request.not_found() from None
        if not plan:
            raise request.not_found()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "plans": plan,
                "page_name": "installments",
                "single": True,
                # The customer's own plan (checked above): its history has no
                # portal access right of its own and is read here only.
                "plan_changes": plan.sudo().change_ids,
            }
        )
        return request.render("installment_credit.portal_my_installments", values)

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        # ``invoice`` was checked by Odoo (owner or valid token) and may be sudo;
        # its plan is shown with the same right.
        values["installment_plan"] = invoice.installment_plan_id
        return values
