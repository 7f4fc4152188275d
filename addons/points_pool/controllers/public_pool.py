"""``/points/pool/<slug>``: the public page of a pool (opt-in, issue 13).

Anyone may read it when the pool's manager turned it on.  It shows aggregate
figures only, from :meth:`points.pool._public_page_values` (a few plain
``SELECT`` queries, cached per pool for a minute in every worker), and the
SPEC 6 disclosure.  Unknown slugs and pages that are off are a 404.
"""

from odoo import http
from odoo.http import request

from ..models.points_pool_public import PUBLIC_CACHE_SECONDS


class PointsPublicPool(http.Controller):
    @staticmethod
    def _public_pool_values(slug):
        """The figures of the page at ``slug`` (shared dict), or ``None``."""
        Pool = request.env["points.pool"].sudo()
        pool_id = Pool._public_page_pool_id(slug)
        if not pool_id:
            return None
        return Pool._public_page_values(pool_id)

    @http.route(
        "/points/pool/<string:slug>",
        type="http",
        auth="public",
        website=True,
        sitemap=False,
        methods=["GET"],
    )
    def public_pool(self, slug, **kwargs):
        figures = self._public_pool_values(slug)
        if not figures:
            return request.not_found()
        response = request.render(
            "points_pool.public_pool_page",
            {
                "figures": figures,
                "chart": figures["chart"],
                "res_company": request.env["res.company"]
                .sudo()
                .browse(figures["company_id"]),
            },
        )
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_CACHE_SECONDS}"
        return response
