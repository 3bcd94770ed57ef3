# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
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
