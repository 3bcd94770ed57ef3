# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from werkzeug.exceptions import MethodNotAllowed

from odoo import models

from ..controllers.api_common import error_for_exception, is_api_request


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        """The JSON APIs answer every error in JSON, including those raised
        before their endpoint runs (no or bad API key, unknown route, wrong
        method): never an HTML page or a traceback."""
        if is_api_request():
            return error_for_exception(exception).get_response()
        return super()._handle_error(exception)

    @classmethod
    def _match(cls, path_info):
        """A known API route called with another method is a 405 in JSON (Odoo
        raises it before any transaction, where ``_handle_error`` is not
        called)."""
        try:
            return super()._match(path_info)
        except MethodNotAllowed as exc:
            if not is_api_request():
                raise
            error = error_for_exception(exc)
            error.error_response = error.get_response()
            raise error from exc
