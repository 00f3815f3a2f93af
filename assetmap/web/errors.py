"""Error responses: JSON for the API, a plain page for people, never a stack trace."""

from __future__ import annotations

import re

from flask import Flask, current_app, jsonify, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    RequestEntityTooLarge,
)

from assetmap.search.parameters import ParameterError
from assetmap.search.postcodes import PostcodeError
from assetmap.web.guard import requires

# What a person is told for each status, when the error carries nothing more specific.
MESSAGES = {
    400: ("Something in the request needs fixing", None),
    401: ("Please sign in", "Sign in to use this page."),
    403: ("You cannot use this page", "Your account's role does not allow this."),
    404: (
        "Page not found",
        "There is nothing at this address. Check it, or start again from the home page.",
    ),
    405: ("That cannot be done here", "This page does not accept that kind of request."),
    413: ("The file or form is too large", None),
    414: ("The web address is too long", "Shorten the address: use fewer search filters."),
    422: ("That postcode cannot be used", None),
    429: ("Too many attempts", None),
    431: (
        "The request's headers are too large",
        "Clear this site's cookies in your browser, then try again.",
    ),
    500: (
        "Sorry, something went wrong",
        "The problem has been logged. Please try again in a moment.",
    ),
    503: ("Not available yet", None),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str, details: object = None):
    """The API's error body, as PRODUCT.md fixes it: {"error": ..., "details": ...}."""
    response = jsonify({"error": message, "details": details})
    response.status_code = status
    return response


def error_page(status: int, message: str | None = None, details: object = None):
    """The error as JSON under /api/ (with `details`), or as the site's error page."""
    title, default = MESSAGES.get(status, ("Something went wrong", None))
    if wants_json():
        return api_error(status, message or default or title, details)
    return render_template(
        "error.html", title=title, message=message or default, status=status
    ), status


def _http_error(error: HTTPException):
    code = error.code or 500
    # werkzeug's own descriptions are generic; ours (passed to abort) are kept.
    generic = type(error).description
    message = None if error.description == generic else error.description
    if code == 500:
        message = None  # never show internals
    response = error_page(code, message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # A 405 says which methods the address does take (RFC 9110, 15.5.6).
        response = current_app.make_response(response)
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def _too_large(error: RequestEntityTooLarge):
    limit = current_app.config["ASSETMAP_MAX_UPLOAD_MB"]
    return error_page(
        413,
        f"The largest file or form accepted is {limit} MB. Split the file into smaller parts, "
        "or ask an admin to raise ASSETMAP_MAX_UPLOAD_MB.",
    )


def too_slow(limit_ms: int):
    """A request whose SQL ran over ASSETMAP_SQL_TIME_LIMIT_MS and was stopped (web/db.py).

    503: the server declined to finish it, and nothing was saved (the write, if any, was
    rolled back). It says what happened and what to try, and, for the API and the operator,
    which limit and which setting.
    """
    limit = f"{limit_ms / 1000:g} s"
    if wants_json():
        return api_error(
            503,
            f"This took too long: the request's database work ran over the {limit} limit "
            "(ASSETMAP_SQL_TIME_LIMIT_MS) and was stopped, so nothing was saved. Narrow the "
            "request (fewer keywords, a smaller area or page) or try again later.",
            {"limit_ms": limit_ms, "setting": "ASSETMAP_SQL_TIME_LIMIT_MS"},
        )
    message = (
        f"This took more than {limit}, so it was stopped and nothing was saved. Try again "
        "with a narrower search (fewer words, or a smaller area). If it keeps happening, tell "
        f"the directory's administrators: the limit is ASSETMAP_SQL_TIME_LIMIT_MS ({limit_ms})."
    )
    return render_template(
        "error.html", title="This took too long", message=message, status=503
    ), 503


def _csrf_error(error: CSRFError):
    return error_page(
        400,
        "This form has expired or was not sent from this site, so nothing was saved. "
        "Go back, reload the page and send the form again.",
    )


def _postcode_error(error: PostcodeError):
    """A postcode that is not one, or cannot be placed: 422, saying which and why."""
    if wants_json():
        return api_error(422, str(error), {"parameter": "postcode", "reason": error.reason})
    return error_page(422, str(error))


def _parameter_error(error: ParameterError):
    if wants_json():
        return api_error(400, str(error), {"parameter": error.parameter})
    return error_page(400, str(error))


def _unexpected(error: Exception):
    # Logged with its traceback for the operator; the visitor sees a plain apology only.
    current_app.logger.exception("unhandled error on %s", request.path)
    return _http_error(InternalServerError())


# The opening tag of a page's error summary, and of its <title>.
_SUMMARY_TAG = re.compile(rb'<div class="error-summary"([^>]*)>')
_TITLE_TAG = b"<title>"


def mark_failed_submit(response):
    """A page that answers a failed form with its error summary: "Error: " at the start of its
    title, and the summary focused when the page opens (autofocus: no script needed).

    A screen-reader user hears the title first, so the title is where a failed submit must
    show, and a keyboard user should land on the summary, whose links lead to each field.
    Done here, once, for every form's page (each template keeps its own summary's words), and
    only for a page sent with a 4xx status, which is how every form answers a failed submit.
    """
    if (
        not 400 <= response.status_code < 500
        or response.mimetype != "text/html"
        or response.direct_passthrough
        or response.is_streamed
    ):
        return response
    body = response.get_data()
    summary = _SUMMARY_TAG.search(body)
    if summary is None:
        return response
    attributes = summary.group(1)
    if b"autofocus" not in attributes:
        extra = b"" if b"tabindex" in attributes else b' tabindex="-1"'
        opening = b'<div class="error-summary"' + attributes + extra + b" autofocus>"
        body = body[: summary.start()] + opening + body[summary.end() :]
    if _TITLE_TAG + b"Error: " not in body:
        body = body.replace(_TITLE_TAG, _TITLE_TAG + b"Error: ", 1)
    response.set_data(body)
    return response


@requires("view_public")
def favicon():
    """The site's icon where every browser asks for it, /favicon.ico, so that no page load
    ends in a 404 (and its log line). Cached for a day, as the static files are."""
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=86_400)


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.after_request(mark_failed_submit)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(PostcodeError, _postcode_error)
    app.register_error_handler(ParameterError, _parameter_error)
    app.register_error_handler(Exception, _unexpected)
