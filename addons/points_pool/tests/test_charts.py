from ast import literal_eval
from datetime import timedelta
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.tests import tagged

from ..controllers import portal as portal_controller
from .test_portal import ALICE_LOGIN, BOB_LOGIN, PointsPortalCommon

PRICE_ACTION = "points_pool.points_pool_move_action_price"
DAILY_ACTION = "points_pool.points_pool_move_action_price_daily"


@tagged("post_install", "-at_install")
class TestCharts(PointsPortalCommon):
    """The back office's price charts (by ledger event, by day), the member
    page's SVG chart and the demo's history spread over 90 days."""

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _graph(self, xml_id):
        """``(action, graph arch, groupby, measures)`` of a price action."""
        action = self.env.ref(xml_id)
        arch = etree.fromstring(
            self.env["points.pool.move"].get_view(action.view_id.id, "graph")["arch"]
        )
        fields_ = arch.findall("field")
        groupby = [
            field.get("name")
            + (f":{field.get('interval')}" if field.get("interval") else "")
            for field in fields_
            if field.get("type") != "measure"
        ]
        measures = [f.get("name") for f in fields_ if f.get("type") == "measure"]
        return action, arch, groupby, measures

    def _events(self):
        """A few hand-built events: two orders, a sale, an injection, an order."""
        self._buy(self.alice)
        self._buy(self.bob, 2000.0)
        self._sell_line(self._member(self.alice), 10)
        self.pool.action_inject(150.0)
        self._buy(self.bob)
        self.env.flush_all()

    def _chart(self, doc):
        charts = doc.xpath("//div[contains(@class, 'o_points_price_chart')]")
        self.assertEqual(len(charts), 1, "one price chart on the member page")
        chart = charts[0]

        def points(css_class):
            (series,) = chart.xpath(f".//polyline[contains(@class, '{css_class}')]")
            return [
                tuple(float(c) for c in pair.split(","))
                for pair in series.get("points").split()
            ]

        return chart, points("o_points_chart_price"), points("o_points_chart_value")

    # ------------------------------------------------------------------
    # back office
    # ------------------------------------------------------------------
    def test_price_graph_one_point_per_ledger_event(self):
        self._events()
        Move = self.env["points.pool.move"]
        action, arch, groupby, measures = self._graph(PRICE_ACTION)
        self.assertEqual(arch.get("type"), "line")
        self.assertEqual(groupby, ["number"])
        self.assertEqual(measures, ["price_after"])
        self.assertEqual(Move._fields["price_after"].aggregator, "max")
        domain = literal_eval(action.domain) + [("pool_id", "=", self.pool.id)]
        lines = Move.search(domain, order="number")
        self.assertGreaterEqual(len(lines), 5)
        numbers = lines.mapped("number")
        self.assertEqual(numbers, list(range(1, len(lines) + 1)))
        groups = Move.read_group(domain, ["price_after:max"], groupby, lazy=False)
        self.assertEqual([group["number"] for group in groups], numbers)
        self.assertEqual(
            [group["price_after"] for group in groups], lines.mapped("price_after")
        )
        self.assertEqual([group["__count"] for group in groups], [1] * len(lines))
        self.assertGreater(len(set(lines.mapped("price_after"))), 1, "a shape")

        # the by-day variant: every event of the test is today, one point
        _action, _arch, day_groupby, day_measures = self._graph(DAILY_ACTION)
        self.assertEqual((day_groupby, day_measures), (["date:day"], ["price_after"]))
        days = Move.read_group(domain, ["price_after:max"], day_groupby, lazy=False)
        self.assertEqual(len(days), 1)
        self.assertEqual(days[0]["price_after"], max(lines.mapped("price_after")))
        # and the toggle in the search: Group By > Ledger event / Day
        search = etree.fromstring(Move.get_view(view_type="search")["arch"])
        contexts = {
            node.get("name"): literal_eval(node.get("context"))
            for node in search.iter("filter")
            if node.get("context")
        }
        self.assertEqual(contexts["group_number"], {"group_by": "number"})
        self.assertEqual(contexts["group_date"], {"group_by": "date:day"})

        # the pool form's price button opens the by-event chart of the pool
        form = etree.fromstring(
            self.env["points.pool"].get_view(view_type="form")["arch"]
        )
        (button,) = form.xpath(f"//button[@name='{action.id}']")
        self.assertEqual(button.get("type"), "action")
        self.assertIn("search_default_pool_id", button.get("context"))
        self.assertEqual(
            self.env["ir.ui.menu"]
            .with_context(**{"ir.ui.menu.full_list": True})
            .search([("action", "=", f"ir.actions.act_window,{action.id}")])
            .mapped("name"),
            ["Price over time"],
        )

    # ------------------------------------------------------------------
    # member portal
    # ------------------------------------------------------------------
    def test_portal_price_chart_own_data_only(self):
        self._events()
        Move = self.env["points.pool.move"]
        alice, bob = self._member(self.alice), self._member(self.bob)
        first = min(n for n in alice.ledger_ids.mapped("number") if n)
        events = Move.search(
            [("pool_id", "=", self.pool.id), ("number", ">=", first)], order="number"
        )
        self.assertGreater(len(events), 4)
        self._login(ALICE_LOGIN)
        doc = self._doc(self._get(f"/my/points/{alice.id}"))
        chart, price, value = self._chart(doc)
        self.assertEqual(len(price), len(events))
        self.assertEqual(len(value), len(events))
        self.assertEqual(chart.get("data-points"), str(len(events)))
        # x: ledger number, left to right; y: the price never goes down here
        self.assertEqual([x for x, _y in price], sorted(x for x, _y in price))
        self.assertEqual(
            [y for _x, y in price], sorted((y for _x, y in price), reverse=True)
        )
        self.assertIn(f"#{events[0].number}", chart.text_content())
        self.assertIn(f"#{events[-1].number}", chart.text_content())
        # the value: Alice's own points only (now: her points x the last price)
        currency = self.pool.currency_id
        expected = currency.round(alice.points_held * events[-1].price_after)
        self.assertIn(f"{expected:,.2f}", self._text(doc, "o_points_chart_value_now"))
        self.assertIn(
            f"{events[-1].price_after:.4f}", self._text(doc, "o_points_chart_price_now")
        )
        self.assertNotIn(self.bob.name, chart.text_content())
        bob_value = currency.round(bob.points_held * events[-1].price_after)
        self.assertNotIn(f"{bob_value:,.2f}", chart.text_content())
        # another member's page stays out of reach
        self.assertEqual(self._get(f"/my/points/{bob.id}").status_code, 404)

        # Bob's chart starts at his own first event, with his own points
        self._login(BOB_LOGIN)
        bob_first = min(n for n in bob.ledger_ids.mapped("number") if n)
        doc = self._doc(self._get(f"/my/points/{bob.id}"))
        _chart, bob_price, _value = self._chart(doc)
        self.assertEqual(len(bob_price), events[-1].number - bob_first + 1)
        self.assertIn(f"{bob_value:,.2f}", self._text(doc, "o_points_chart_value_now"))

    def test_portal_price_chart_downsampled(self):
        self._events()
        alice = self._member(self.alice)
        self._login(ALICE_LOGIN)
        with patch.object(portal_controller, "CHART_POINTS", 4):
            doc = self._doc(self._get(f"/my/points/{alice.id}"))
        _chart, price, value = self._chart(doc)
        self.assertEqual((len(price), len(value)), (4, 4))
        chart_box = portal_controller.CHART_BOX
        left, right = chart_box[2], chart_box[0] - chart_box[3]
        self.assertEqual((price[0][0], price[-1][0]), (left, right))

    def test_portal_no_chart_before_first_event(self):
        self._buy(self.bob)
        self.env["points.member"]._get_or_create(self.pool, self.alice)
        alice = self._member(self.alice)
        self.assertTrue(alice)
        self._login(ALICE_LOGIN)
        doc = self._doc(self._get(f"/my/points/{alice.id}"))
        self.assertFalse(doc.xpath("//div[contains(@class, 'o_points_price_chart')]"))

    # ------------------------------------------------------------------
    # demo data
    # ------------------------------------------------------------------
    def test_demo_history_spread_over_90_days(self):
        partner = self.env.ref(
            "points_pool.res_partner_demo_zhang_wei", raise_if_not_found=False
        )
        pool = (
            self.env["points.pool"]
            .sudo()
            .search(
                [("company_id", "=", self.env.ref("base.main_company").id)], limit=1
            )
        )
        member = (
            partner
            and pool
            and self.env["points.member"]
            .sudo()
            .search([("pool_id", "=", pool.id), ("partner_id", "=", partner.id)])
        )
        if not member:
            self.skipTest("the demo data is not installed")
        lines = (
            self.env["points.pool.move"]
            .sudo()
            .search([("pool_id", "=", pool.id), ("number", ">", 0)], order="number")
        )
        dates = lines.mapped("date")
        self.assertEqual(dates, sorted(dates), "dates never go back along the ledger")
        self.assertGreaterEqual(dates[-1] - dates[0], timedelta(days=60))
        self.assertLessEqual(dates[-1], fields.Datetime.now())
        self.assertGreater(len(set(d.date() for d in dates)), 10, "many days")
        lots = (
            self.env["points.lot"]
            .sudo()
            .search([("pool_id", "=", pool.id), ("sale_order_id", "!=", False)])
        )
        paid = sorted(lots.mapped("date_paid"))
        self.assertGreaterEqual(paid[-1] - paid[0], timedelta(days=60))
        for lot in lots:
            self.assertEqual(lot.invoice_id.invoice_date, lot.date_paid.date())
            self.assertLess(
                abs(lot.sale_order_id.date_order - lot.date_paid), timedelta(hours=1)
            )
        problems = [row for row in pool.get_reconciliation() if not row["ok"]]
        self.assertFalse(problems, f"the demo pool does not reconcile: {problems}")
