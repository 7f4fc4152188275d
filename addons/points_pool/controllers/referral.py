from odoo import http
from odoo.http import request

from ..core.referral import normalize_code
from ..models.points_referral_node import referral_qr_png
from ..models.res_users import REFERRAL_COOKIE


class PointsReferralController(http.Controller):
    """``/r/<code>``: the referral link of a member or a store (SPEC section 3)."""

    def _resolve(self, code):
        """``(node, store, company)`` of a code, without creating anything."""
        Node = request.env["points.referral.node"].sudo()
        node, store = Node._resolve_code(code)
        company = node.company_id or store.company_id or request.env.company
        return node, store, company

    @http.route("/r/<string:code>", type="http", auth="public", sitemap=False)
    def referral_link(self, code, **kwargs):
        """Remember the referrer and lead to signup (or the portal when logged in).

        A customer (portal user of the code's company) who is not bound yet is
        bound at once; staff who open a link to check it are not, and a bound
        customer is never re-bound.  The cookie keeps the first valid code of
        the same company for the pool's configured number of days, until
        signup or the first order.
        """
        node, store, company = self._resolve(code)
        if not (node or store):
            return request.not_found()
        code = normalize_code(code)
        user = request.env.user
        if user._is_public():
            scope = request.env["res.users"].sudo()._get_signup_invitation_scope()
            target = "/web/signup" if scope == "b2c" else "/web/login"
            response = request.redirect(f"{target}?redirect=/my/points")
        else:
            if user.share and company in user.company_ids:
                request.env["points.referral.node"].sudo()._bind_partner_by_code(
                    user.partner_id.commercial_partner_id,
                    code,
                    "link",
                    company=company,
                )
            response = request.redirect("/my/points")
        remembered = request.httprequest.cookies.get(REFERRAL_COOKIE)
        if remembered:
            kept_node, kept_store, kept_company = self._resolve(remembered)
            if (kept_node or kept_store) and kept_company == company:
                return response
        pool = (
            request.env["points.pool"]
            .sudo()
            .search([("company_id", "=", company.id)], limit=1)
        )
        response.set_cookie(
            REFERRAL_COOKIE,
            code,
            max_age=(pool.referral_cookie_days or 30) * 86400,
            httponly=True,
            samesite="Lax",
            cookie_type="optional",
        )
        return response

    @http.route("/r/<string:code>/qr.png", type="http", auth="public", sitemap=False)
    def referral_qr(self, code, **kwargs):
        """The QR image of a referral link (portal, printing); 404 for unknown codes."""
        node, store, _company = self._resolve(code)
        if not (node or store):
            return request.not_found()
        base = request.env["res.partner"].sudo().get_base_url()
        return request.make_response(
            referral_qr_png(f"{base}/r/{normalize_code(code)}"),
            headers=[
                ("Content-Type", "image/png"),
                ("Cache-Control", "public, max-age=86400"),
            ],
        )
