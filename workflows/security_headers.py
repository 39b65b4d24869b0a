"""Security headers on every response: the Content-Security-Policy, framing and referrer rules.

Invariant: a page runs only the app's own script files and the inline
<script> elements that carry this response's nonce (``csp_nonce()`` in a
template); inline event handlers, ``javascript:`` URLs and style attributes
are refused by the browser, so templates declare behaviour with data-
attributes that workflows/static/js/page-behaviour.js reads. No other site
may frame a page, and no address leaves the site in a Referer header.
A response that sets its own header of the same name keeps it.
"""
import secrets

from flask import g


def csp_nonce():
    """This response's nonce, made on first use."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce):
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def init_app(app):
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        # frame-ancestors for current browsers, X-Frame-Options for older ones.
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
