import re
from unittest.mock import patch

from lxml import html

from odoo.exceptions import ValidationError
from odoo.sql_db import Cursor
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..models import points_pool_public
from ..models.points_pool_public import SLUG_RE, slugify_name
from .common import PointsPoolCommon

#: a query reading the pool table itself
POOL_ROW_RE = re.compile(r"(FROM|JOIN|UPDATE)\s+\"?points_pool\b(?!_)")


@tagged("post_install", "-at_install")
class TestPublicPage(PointsPoolCommon, HttpCase):
    """``/points/pool/<slug>``: opt-in, aggregate figures only, cached."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # names and emails that must never reach the page
        for partner, name in (
            (cls.alice, "Qiuxiang Publicpagetest"),
            (cls.bob, "Wangwu Publicpagetest"),
        ):
            partner.write(
                {"name": name, "email": f"{name.split()[0].lower()}@secret.example"}
            )
        cls.slug = "pp-public-test"

    def setUp(self):
        super().setUp()
        self.env.registry.clear_cache()
        self.addCleanup(self.env.registry.clear_cache)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _publish(self):
        self.pool.write({"public_page": True, "public_slug": self.slug})

    def _page(self, url=None):
        return self.url_open(url or f"/points/pool/{self.slug}")

    @staticmethod
    def _text(doc, css_class):
        nodes = doc.xpath(f"//*[contains(concat(' ', @class, ' '), ' {css_class} ')]")
        return " ".join(" ".join(node.text_content().split()) for node in nodes)

    def _build_history(self):
        """Two buyers, a sale and an injection that forces lots out."""
        self._buy(self.alice)
        self._buy(self.bob)
        self._buy(self.carol, 500.0)
        self._sell_line(self._member(self.alice), 50)
        self.pool._inject(20000.0)
        self.env.invalidate_all()

    # ------------------------------------------------------------------
    # tests
    # ------------------------------------------------------------------
    def test_slug_default_and_validation(self):
        self.assertFalse(self.pool.public_page, "off by default")
        slug = self.pool.public_slug
        self.assertTrue(slug and SLUG_RE.match(slug), slug)
        base = slugify_name(self.pool.company_id.name)
        self.assertTrue(slug.startswith(base), (slug, base))
        self.assertEqual(slugify_name("Café Zürich 示例 Ltd."), "cafe-zurich-ltd")
        for bad in ("Upper", "with space", "-edge", "a--b", "中文", "x" * 65):
            with self.assertRaises(ValidationError), self.cr.savepoint():
                self.pool.public_slug = bad
                self.pool.flush_recordset()
        self.pool.public_slug = "my-shop-2"
        self.pool.flush_recordset()
        self.assertTrue(self.pool.public_url.endswith("/points/pool/my-shop-2"))

    @mute_logger("odoo.http")
    def test_404_when_off_or_unknown(self):
        self.pool.public_slug = self.slug
        self.assertEqual(self._page().status_code, 404, "off by default")
        self._publish()
        self.assertEqual(self._page().status_code, 200)
        self.assertEqual(self._page("/points/pool/no-such-pool").status_code, 404)
        self.assertEqual(self._page("/points/pool/Bad%20Slug").status_code, 404)
        self.pool.public_page = False
        self.assertEqual(self._page().status_code, 404, "turned off again")

    def test_figures_match_the_pool(self):
        self._build_history()
        self._publish()
        pool = self.pool
        exits = pool.exit_count
        self.assertGreater(exits, 0, "the injection forced lots out")
        lines = self.env["points.pool.move"].search(
            [("pool_id", "=", pool.id), ("kind", "in", ("sell", "exit"))]
        )
        paid_out = sum(lines.mapped("wallet"))
        self.assertGreater(paid_out, 0)
        response = self._page()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Cache-Control"], "public, max-age=60")
        doc = html.fromstring(response.text)
        state = pool.get_pool_state()
        self.assertEqual(
            self._text(doc, "o_points_public_price"), state["price_display"]
        )
        self.assertIn(f"{pool.fund:,.2f}", self._text(doc, "o_points_public_fund"))
        self.assertEqual(
            self._text(doc, "o_points_public_supply"), f"{pool.supply:,.4f}"
        )
        self.assertIn(
            f"{pool.reserve:,.2f}", self._text(doc, "o_points_public_reserve")
        )
        self.assertIn(f"{paid_out:,.2f}", self._text(doc, "o_points_public_paid_out"))
        self.assertEqual(self._text(doc, "o_points_public_exits"), str(exits))
        self.assertEqual(
            self._text(doc, "o_points_public_members"), str(pool.member_count)
        )
        self.assertEqual(pool.member_count, 3)
        self.assertIn("not guaranteed", self._text(doc, "o_points_disclosure"))
        # the chart: one point per ledger event (few here) from p0, up to the
        # current price label
        points = doc.xpath("//polyline[contains(@class, 'o_points_public_chart_line')]")
        self.assertEqual(len(points), 1)
        coordinates = points[0].get("points").split()
        self.assertEqual(len(coordinates), pool.ledger_number + 1)
        last = self.env["points.pool.move"].search(
            [("pool_id", "=", pool.id), ("number", "=", pool.ledger_number)]
        )
        self.assertEqual(
            self._text(doc, "o_points_public_chart_high"), f"{last.price_after:.4f}"
        )
        # no name, email or other member data
        for partner in self.alice | self.bob | self.carol:
            self.assertNotIn(partner.name, response.text)
            if partner.email:
                self.assertNotIn(partner.email, response.text)
        self.assertNotIn("secret.example", response.text)
        members = self.env["points.member"].search([("pool_id", "=", pool.id)])
        for code in members.mapped("referral_code"):
            self.assertNotIn(code, response.text)

    def test_chart_is_downsampled(self):
        numbers = points_pool_public._sample_numbers(100_000)
        self.assertLessEqual(len(numbers), points_pool_public.CHART_POINTS)
        self.assertEqual((numbers[0], numbers[-1]), (1, 100_000))
        self.assertEqual(numbers, sorted(set(numbers)))
        self.assertEqual(points_pool_public._sample_numbers(5), [1, 2, 3, 4, 5])
        self.assertEqual(points_pool_public._sample_numbers(0), [])

    def test_chinese_labels(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["points_pool"], ["zh_CN"])
        self._buy(self.alice)
        self._publish()
        response = self._page(f"/zh_CN/points/pool/{self.slug}")
        self.assertEqual(response.status_code, 200)
        doc = html.fromstring(response.text)
        text = " ".join(doc.text_content().split())
        for label in (
            "每积分价格",
            "盈利池资金",  # the back office's word for the fund
            "流通积分",
            "已支付给会员",
            "强制出局",
        ):
            self.assertIn(label, text)
        self.assertIn("不受保证", self._text(doc, "o_points_disclosure"))
        self.assertNotIn("Price per point", text)
        # the same figures in both languages
        english = html.fromstring(self._page().text)
        self.assertEqual(
            self._text(doc, "o_points_public_price"),
            self._text(english, "o_points_public_price"),
        )

    def test_second_request_is_cached(self):
        self._buy(self.alice)
        self._publish()
        original = Cursor.execute
        queries = []

        def execute(cursor, query, *args, **kwargs):
            queries.append(str(getattr(query, "code", query)))
            return original(cursor, query, *args, **kwargs)

        def ledger_queries():
            return [query for query in queries if "points_pool_move" in query]

        with (
            patch.object(points_pool_public, "cache_bucket", return_value=1),
            patch.object(Cursor, "execute", execute),
        ):
            first = self._page()
            self.assertEqual(first.status_code, 200)
            self.assertTrue(ledger_queries(), "the first request computes")
            queries.clear()
            # a new event within the period: the page still shows the cached figures
            self._buy(self.bob)
            queries.clear()
            second = self._page()
            self.assertEqual(second.status_code, 200)
            self.assertFalse(ledger_queries(), "the second request reads no ledger")
            self.assertFalse(
                [query for query in queries if POOL_ROW_RE.search(query)],
                "nor the pool row",
            )
        doc_first = html.fromstring(first.text)
        doc_second = html.fromstring(second.text)
        self.assertEqual(
            self._text(doc_first, "o_points_public_members"),
            self._text(doc_second, "o_points_public_members"),
        )
        # the next period shows the new figures
        with patch.object(points_pool_public, "cache_bucket", return_value=2):
            third = html.fromstring(self._page().text)
        self.assertEqual(self._text(third, "o_points_public_members"), "2")
