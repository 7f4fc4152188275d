"""The referral cookie: what ``/r/<code>`` remembers for a visitor (SPEC 3).

Request helpers, not a controller: the link (``controllers/referral.py``) sets
the cookie; signup (``models/res_users.py``) and the first order
(``models/sale_order.py``) read it and expire it once it has bound someone.
Outside an HTTP request (crons, tests, shell) there is no cookie, and the
helpers do nothing.
"""

from odoo.http import request

#: cookie set by ``/r/<code>``; read at signup and at the first order
REFERRAL_COOKIE = "pp_ref"


def get_request_referral_code(env):
    """The referral code remembered in the current HTTP request, if any.

    :return: the code from the context (``points_referral_code``) or the
        ``pp_ref`` cookie; ``None`` outside a request
    """
    code = env.context.get("points_referral_code")
    if code:
        return code
    current = _current_httprequest()
    return current.cookies.get(REFERRAL_COOKIE) if current else None


def _current_httprequest():
    """The werkzeug request of this thread, or ``None`` (crons, tests, shell)."""
    try:
        return request.httprequest if request else None
    except RuntimeError:  # no request bound to this thread
        return None


def forget_request_referral_code():
    """Expire the referral cookie once it has bound someone (or cannot)."""
    current = _current_httprequest()
    if current and current.cookies.get(REFERRAL_COOKIE):
        request.future_response.set_cookie(REFERRAL_COOKIE, "", max_age=0)
