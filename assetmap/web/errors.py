"""Error responses: JSON for the API, a plain page for people, never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from assetmap.queries import ParameterError


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str, details: object = None):
    """The API's error body, as PRODUCT.md fixes it: {"error": ..., "details": ...}."""
    response = jsonify({"error": message, "details": details})
    response.status_code = status
    return response


def _http_error(error: HTTPException):
    if wants_json():
        return api_error(error.code or 500, error.description or error.name)
    return render_template("error.html", error=error), error.code


def _parameter_error(error: ParameterError):
    if wants_json():
        return api_error(400, str(error), {"parameter": error.parameter})
    return render_template("error.html", error=error, status=400), 400


def _unexpected(error: Exception):
    # Logged with its traceback for the operator; the visitor sees a plain apology only.
    import flask

    flask.current_app.logger.exception("unhandled error on %s", request.path)
    return _http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ParameterError, _parameter_error)
    app.register_error_handler(Exception, _unexpected)
