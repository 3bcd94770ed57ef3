# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``/api/installments/v1``: read and create an invoice's installment plan.
Thin JSON wrappers over ``account.move.create_installment_plan``, acting as the
user of the API key (``Authorization: Bearer <key>``)."""

from odoo import http
from odoo.http import request

from .api_common import ApiError, api_route, json_response, read_json_body

PLAN_FIELDS = {
    "count": int,
    "interval_number": int,
    "interval_unit": str,
    "first_due_date": str,
    "installment_amount": (int, float),
    "remainder": str,
    "lines": list,
}


class InstallmentApi(http.Controller):
    def _invoice(self, invoice_id):
        invoice = request.env["account.move"].browse(invoice_id).exists()
        if not invoice or invoice.move_type != "out_invoice":
            raise ApiError(
                404, "not_found", f"No customer invoice with id {invoice_id}."
            )
        invoice.check_access("read")
        return invoice

    @api_route(
        "/api/installments/v1/invoices/<int:invoice_id>/plan",
        methods=["GET"],
        readonly=True,
    )
    def get_plan(self, invoice_id, **_kwargs):
        plan = self._invoice(invoice_id).installment_plan_id
        if not plan:
            raise ApiError(
                404, "not_found", f"Invoice {invoice_id} has no installment plan."
            )
        return json_response(plan._api_values())

    @api_route("/api/installments/v1/invoices/<int:invoice_id>/plan", methods=["POST"])
    def create_plan(self, invoice_id, **_kwargs):
        body = read_json_body()
        unknown = sorted(set(body) - set(PLAN_FIELDS))
        if unknown:
            raise ApiError(
                400,
                "invalid_request",
                f"Unknown field(s) {', '.join(unknown)}: expected some of "
                f"{', '.join(PLAN_FIELDS)}.",
                field=unknown[0],
            )
        for name, kind in PLAN_FIELDS.items():
            value = body.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, kind)
            ):
                raise ApiError(
                    400,
                    "invalid_request",
                    f"{name} has the wrong type ({type(value).__name__}).",
                    field=name,
                )
        invoice = self._invoice(invoice_id)
        if invoice.installment_plan_id:
            raise ApiError(
                409,
                "plan_exists",
                f"{invoice.name} already has an installment plan: edit its "
                "installments, or cancel it before making a new one.",
            )
        plan = invoice.create_installment_plan(**body)
        return json_response(plan._api_values(), status=201)
