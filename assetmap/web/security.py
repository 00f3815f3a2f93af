"""Security headers on every response, CSRF protection on every form, cookie settings, and
the largest request address and headers accepted.

The Content-Security-Policy allows scripts only from this site and the one inline script a
page carries with this request's nonce (folium's map script), so injected markup cannot run
a script even if escaping were ever missed somewhere.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()

# The longest address (path and query string, as sent) and the most header bytes accepted.
# `assetmap serve` sets gunicorn's own limits above these, so that the refusal is the app's:
# JSON under /api/, the error page elsewhere.
MAX_URL_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024


class CsrfOnlyForm(FlaskForm):
    """For forms whose inputs the templates write themselves (many are made from
    assetmap.record.fields): this checks and renders just their CSRF token."""


def csp_nonce() -> str:
    """This request's nonce for inline scripts, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def tile_source(tile_url: str) -> str:
    """The CSP source for the tile server, e.g. https://*.tile.example.org for {s} URLs."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return ""  # a relative URL: tiles come from this site, which 'self' covers
    host = parts.netloc.replace("{s}.", "*.")
    return f"{parts.scheme}://{host}"


def content_security_policy(nonce: str, tile_url: str) -> str:
    images = " ".join(filter(None, ["'self'", "data:", tile_source(tile_url)]))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _add_headers(response):
    from flask import current_app

    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        csp_nonce(), current_app.config["ASSETMAP_TILE_URL"]
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.path.startswith(("/manage", "/admin", "/account", "/login")):
        headers["Cache-Control"] = "no-store"
    return response


def _request_target(environ: dict) -> str:
    """The path and query string as the client sent them (gunicorn and werkzeug keep it)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw
    query = environ.get("QUERY_STRING", "")
    return quote(environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")


def _refuse_oversized_requests():
    """A 414 for an address over MAX_URL_BYTES, a 431 for headers over MAX_HEADER_BYTES
    (each counted as on the wire: "Name: value" and a line break)."""
    from assetmap.web.errors import error_page

    url_bytes = len(_request_target(request.environ).encode("latin-1", "replace"))
    if url_bytes > MAX_URL_BYTES:
        return error_page(
            414,
            f"The address is {url_bytes:,} bytes long; the most accepted is {MAX_URL_BYTES:,}. "
            "Use fewer or shorter parameters.",
            {"limit_bytes": MAX_URL_BYTES, "size_bytes": url_bytes},
        )
    header_bytes = sum(len(name) + len(value) + 4 for name, value in request.headers.items())
    if header_bytes > MAX_HEADER_BYTES:
        return error_page(
            431,
            f"The request's headers are {header_bytes:,} bytes; the most accepted is "
            f"{MAX_HEADER_BYTES:,}. Send fewer or smaller headers (or clear this site's cookies).",
            {"limit_bytes": MAX_HEADER_BYTES, "size_bytes": header_bytes},
        )
    return None


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app, session, response) -> None:
        """Not on a static file, which is the same for everyone and cached for a year
        (assetmap.web.delivery): no cookie on it, and no `Vary: Cookie`, which would make a
        browser fetch every file again after signing in."""
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = SessionInterface()
    proxies = app.config["ASSETMAP_TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.before_request(_refuse_oversized_requests)  # before CSRF and sign-in checks
    csrf.init_app(app)
    app.after_request(_add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


__all__ = ["CSRFError", "CsrfOnlyForm", "csrf", "init_app"]
