"""Security headers on every response, CSRF protection on every form, cookie settings.

The Content-Security-Policy allows scripts only from this site and the one inline script a
page carries with this request's nonce (folium's map script), so injected markup cannot run
a script even if escaping were ever missed somewhere.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()


class CsrfOnlyForm(FlaskForm):
    """For forms whose inputs the templates write themselves (many are made from
    assetmap.fields): this checks and renders just their CSRF token."""


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


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies are marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = SessionInterface()
    proxies = int(app.config["ASSETMAP_TRUSTED_PROXIES"] or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    csrf.init_app(app)
    app.after_request(_add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce


__all__ = ["CSRFError", "CsrfOnlyForm", "csrf", "init_app"]
