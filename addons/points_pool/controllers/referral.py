from odoo import _, http
from odoo.http import request

from ..core.referral import normalize_code
from ..models.points_referral_node import referral_qr_png
from .referral_cookie import REFERRAL_COOKIE


class PointsReferralController(http.Controller):
    """``/r/<code>``: the referral link of a member or a store (SPEC section 3)."""

    def _resolve(self, code):
        """``(node, store, company)`` of a code, without creating anything."""
        Node = request.env["points.referral.node"].sudo()
        node, store = Node._resolve_code(code)
        company = node.company_id or store.company_id or request.env.company
        return node, store, company

    @staticmethod
    def _referrer_partner(node, store):
        """The partner a binding to this code would put above the member."""
        return node.partner_id or store.points_store_owner_id.commercial_partner_id

    def _may_join(self, node, store, company):
        """Whether the logged-in user may be asked to join this code's team.

        Only a customer (portal user of the code's company) who is not bound
        yet, whose own code it is not, and whom the tree would accept: staff
        who open a link to check it and bound customers are never asked (and
        never re-bound).  Reads only: nothing is created.
        """
        user = request.env.user
        if user._is_public() or not user.share or company not in user.company_ids:
            return False
        referrer = self._referrer_partner(node, store)
        partner = user.partner_id.commercial_partner_id
        if not referrer or referrer == partner:
            return False
        pool = (
            request.env["points.pool"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)], limit=1)
        )
        if pool and not pool.active:
            return False  # an archived programme binds nobody
        member = (
            request.env["points.member"].sudo()._find(pool, partner)
            if pool
            else request.env["points.member"]
        )
        own = member.referral_node_id.sudo()
        if own.parent_id or own.bind_source:
            return False
        return not (own and node and own._get_binding_error(node))

    @http.route(
        "/r/<string:code>",
        type="http",
        auth="public",
        website=True,
        sitemap=False,
        methods=["GET"],
    )
    def referral_link(self, code, **kwargs):
        """Remember the referrer and lead to signup (or ask when logged in).

        A GET never binds anyone (a link, or an image on another site, is not
        consent): a customer (portal user of the code's company) who is not
        bound yet is asked to confirm, and only the POST of that page
        (:meth:`referral_join`) binds.  Staff who open a link to check it and
        bound customers go to the portal and are never bound.  For visitors
        and users who are not asked, the cookie keeps the first valid code of
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
        elif self._may_join(node, store, company):
            # no cookie either: it would bind this customer at their next order
            values = {
                "page_name": "referral_join",
                "code": code,
                "join_title": _(
                    "Join %(referrer)s's team?",
                    referrer=self._referrer_partner(node, store).name,
                ),
            }
            return request.render("points_pool.portal_referral_join", values)
        else:
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

    @http.route(
        "/r/<string:code>/join",
        type="http",
        auth="user",
        website=True,
        sitemap=False,
        methods=["POST"],
    )
    def referral_join(self, code, **kwargs):
        """Bind the logged-in customer to ``code``: the confirmed question.

        The CSRF token of the confirmation page is required (Odoo checks it
        on every POST): another site cannot confirm for the user.  Staff, bound
        members and invalid bindings (own code, cycle) change nothing and go
        to the portal.
        """
        node, store, company = self._resolve(code)
        if not (node or store):
            return request.not_found()
        if self._may_join(node, store, company):
            bound = (
                request.env["points.referral.node"]
                .sudo()
                ._bind_partner_by_code(
                    request.env.user.partner_id.commercial_partner_id,
                    normalize_code(code),
                    "link",
                    company=company,
                )
            )
            if bound:
                return request.redirect(f"/my/points/{bound.member_id.id}/team?bound=1")
        return request.redirect("/my/points")

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
