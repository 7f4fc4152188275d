from odoo import http
from odoo.http import request

from ..core.referral import normalize_code
from ..models.points_referral_node import referral_qr_png
from ..models.res_users import REFERRAL_COOKIE


class PointsReferralController(http.Controller):
    """``/r/<code>``: the referral link of a member or a store (SPEC section 3)."""

    @http.route("/r/<string:code>", type="http", auth="public", sitemap=False)
    def referral_link(self, code, **kwargs):
        """Remember the referrer and lead to signup (or the portal when logged in).

        A logged-in customer who is not bound yet is bound at once; a bound one
        is never re-bound.  The cookie keeps the first valid code visited for the
        pool's configured number of days, until signup or the first order.
        """
        Node = request.env["points.referral.node"].sudo()
        node, _store = Node._resolve_code(code)
        if not node:
            return request.not_found()
        code = normalize_code(code)
        user = request.env.user
        if user._is_public():
            scope = request.env["res.users"].sudo()._get_signup_invitation_scope()
            target = "/web/signup" if scope == "b2c" else "/web/login"
            response = request.redirect(f"{target}?redirect=/my/points")
        else:
            Node._bind_partner_by_code(
                user.partner_id.commercial_partner_id,
                code,
                "link",
                company=node.company_id,
            )
            response = request.redirect("/my/points")
        remembered = request.httprequest.cookies.get(REFERRAL_COOKIE)
        if not (remembered and Node._resolve_code(remembered)[0]):
            response.set_cookie(
                REFERRAL_COOKIE,
                code,
                max_age=node.pool_id.referral_cookie_days * 86400,
                httponly=True,
                samesite="Lax",
                cookie_type="optional",
            )
        return response

    @http.route("/r/<string:code>/qr.png", type="http", auth="public", sitemap=False)
    def referral_qr(self, code, **kwargs):
        """The QR image of a referral link (portal, printing); 404 for unknown codes."""
        node, _store = request.env["points.referral.node"].sudo()._resolve_code(code)
        if not node:
            return request.not_found()
        url = f"{node.get_base_url()}/r/{normalize_code(code)}"
        return request.make_response(
            referral_qr_png(url),
            headers=[
                ("Content-Type", "image/png"),
                ("Cache-Control", "public, max-age=86400"),
            ],
        )
