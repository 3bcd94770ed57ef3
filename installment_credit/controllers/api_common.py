# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the JSON APIs share: JSON answers, errors as JSON with a status code
that says what happened, the body parser and the endpoint decorator."""

import functools
import json

from werkzeug.exceptions import HTTPException

from odoo import http
from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError
from odoo.http import Response, request

API_PREFIXES = ("/api/credits/", "/api/installments/")


def json_response(data, status=200, headers=None):
    return Response(
        json.dumps(data, default=str),
        status=status,
        headers=[("Content-Type", "application/json; charset=utf-8")]
        + list(headers or []),
    )


class ApiError(HTTPException):
    """An error answer of the API. An HTTP exception (not a business one), so
    that Odoo rolls the transaction back without logging it as a failure of
    the server, and answers with :meth:`get_response`."""

    def __init__(self, status, error, message, **details):
        super().__init__(message)
        self.code = status
        self.error = error
        self.message = message
        self.details = details

    def get_response(self, environ=None, scope=None):
        body = {"error": self.error, "message": self.message, **self.details}
        headers = [("WWW-Authenticate", "Bearer")] if self.code == 401 else []
        return json_response(body, status=self.code, headers=headers)


def error_for_exception(exc):
    """The ``ApiError`` an exception raised while serving the API stands for."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):
        error = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(exc.code, "http_error")
        if exc.code == 401:
            message = (
                "Missing or invalid API key: send the header "
                "'Authorization: Bearer <key>' with a key of the user "
                "(Preferences > Account Security > New API Key)."
            )
        elif exc.code == 404:
            message = "No such endpoint: see docs/openapi.yaml for the routes."
        else:
            message = exc.description or exc.name
        return ApiError(exc.code or 500, error, message)
    if isinstance(exc, AccessDenied):
        return ApiError(401, "unauthorized", exc.args[0] if exc.args else "")
    if isinstance(exc, AccessError):
        return ApiError(403, "forbidden", exc.args[0])
    if isinstance(exc, MissingError):
        return ApiError(404, "not_found", exc.args[0])
    if isinstance(exc, UserError):
        return ApiError(400, "invalid_request", exc.args[0])
    return ApiError(500, "internal_error", "Internal error: the server log says why.")


def is_api_request():
    return bool(request) and request.httprequest.path.startswith(API_PREFIXES)


def read_json_body():
    """The request's JSON object, or a 400 saying what is wrong with it."""
    try:
        data = request.get_json_data()
    except ValueError as error:
        raise ApiError(
            400, "invalid_json", f"The body is not valid JSON: {error}."
        ) from error
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def api_endpoint(func):
    """Serve ``func`` as a JSON endpoint: business errors become JSON errors
    (400 invalid, 403 rights, 404 unknown record), raised as ``ApiError`` so
    that nothing the call wrote is kept."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (UserError, AccessDenied) as exc:
            raise error_for_exception(exc) from exc

    return wrapper


def api_route(path, methods, readonly=False):
    """An API route: JSON over HTTP, authenticated by a user API key
    (``Authorization: Bearer``), no CSRF token and no session (each call
    carries its key), served by ``api_endpoint``; ``readonly`` for reads (the
    replica may serve them)."""

    def decorator(func):
        return http.route(
            path,
            type="http",
            auth="bearer",
            methods=methods,
            csrf=False,
            save_session=False,
            readonly=readonly,
        )(api_endpoint(func))

    return decorator
