import lxml.html
from psycopg2 import IntegrityError

from odoo import http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..controllers.referral_cookie import (
    forget_request_referral_code,
    get_request_referral_code,
)
from ..core import referral
from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestCoreReferral(BaseCase):
    """The pure referral helpers (no database)."""

    def test_codes_are_short_unambiguous_and_distinct(self):
        codes = {referral.new_code() for _i in range(2000)}
        self.assertEqual(len(codes), 2000)
        for code in codes:
            self.assertEqual(len(code), referral.CODE_LENGTH)
            self.assertFalse(set(code) & set("01ILO"), code)

    def test_normalize_code(self):
        self.assertEqual(referral.normalize_code(" ab3k-9x "), "AB3K9X")
        self.assertIsNone(referral.normalize_code("A0B"))  # 0 is not in the alphabet
        self.assertIsNone(referral.normalize_code(""))
        self.assertIsNone(referral.normalize_code(None))
        self.assertIsNone(referral.normalize_code("'; DROP TABLE x; --"))

    def test_paths_and_cycles(self):
        self.assertEqual(referral.path_ids("1/5/9/"), [1, 5, 9])
        self.assertEqual(referral.upline_ids("1/5/9/"), [5, 1])
        self.assertEqual(referral.upline_ids("7/"), [])
        self.assertTrue(referral.creates_cycle("1/5/", "1/5/"))  # itself
        self.assertTrue(referral.creates_cycle("1/5/", "1/5/9/12/"))  # its team
        self.assertFalse(referral.creates_cycle("1/5/", "1/55/"))  # a lookalike id
        self.assertFalse(referral.creates_cycle("1/5/", "1/"))

    def test_earned_rank(self):
        member = referral.RankRule(1, 1, min_own=500)
        partner = referral.RankRule(2, 2, min_team=10_000)
        cofounder = referral.RankRule(3, 3, min_own=2_000, min_team=50_000)
        director = referral.RankRule(4, 4)  # manager or package only
        rules = [director, cofounder, partner, member]
        self.assertIsNone(referral.earned_rank(rules, 499, 0))
        self.assertEqual(referral.earned_rank(rules, 500, 0), member)
        self.assertEqual(referral.earned_rank(rules, 0, 10_000), partner)
        self.assertEqual(referral.earned_rank(rules, 1_999, 60_000), partner)
        self.assertEqual(referral.earned_rank(rules, 2_000, 50_000), cofounder)
        # never lowered: a member already at level 3 keeps it
        self.assertIsNone(referral.earned_rank(rules, 500, 0, current_level=3))
        # a package grants its rank; volume may still earn a higher one
        self.assertEqual(referral.earned_rank(rules, 0, 0, package_level=4), director)
        self.assertEqual(
            referral.earned_rank(rules, 2_000, 50_000, package_level=2), cofounder
        )


@tagged("post_install", "-at_install")
class TestReferral(PointsPoolCommon):
    """Binding rules, the tree, stores and ranks (SPEC section 3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Node = cls.env["points.referral.node"]
        cls.members = cls.env["points.member"]._get_or_create(
            cls.pool, cls.alice | cls.bob | cls.carol | cls.dave
        )

    def _node(self, partner):
        return self._member(partner).referral_node_id

    def _code(self, partner):
        return self._node(partner).code

    def _logs(self, partner):
        return self.env["points.referral.log"].search([("partner_id", "=", partner.id)])

    def _chain(self, *partners):
        """Bind each partner under the previous one: a -> b -> c ..."""
        for referrer, partner in zip(partners, partners[1:], strict=False):
            self._member(partner).action_bind_referrer(self._code(referrer))

    def test_request_referral_code_outside_a_request(self):
        """The cookie helpers (controllers/referral_cookie.py) read the context's
        code first; outside an HTTP request there is no cookie to read or expire."""
        self.assertIsNone(get_request_referral_code(self.env))
        env = self.env(context=dict(self.env.context, points_referral_code="ABC123"))
        self.assertEqual(get_request_referral_code(env), "ABC123")
        self.assertIsNone(forget_request_referral_code())

    def test_every_member_gets_a_unique_node_and_code(self):
        nodes = self.members.referral_node_id
        self.assertEqual(len(nodes), 4)
        self.assertEqual(len(set(nodes.mapped("code"))), 4)
        self.assertEqual(nodes.mapped("parent_id"), self.Node)
        alice = self._member(self.alice)
        self.assertTrue(alice.referral_url.endswith(f"/r/{alice.referral_code}"))
        self.assertTrue(
            alice._get_referral_qr_data_uri().startswith("data:image/png;base64,")
        )

    def test_first_binding_wins_and_is_locked(self):
        bob = self._member(self.bob)
        result = bob.action_bind_referrer(self._code(self.alice).lower())
        self.assertEqual(result, {"referrer": "Alice", "bind_source": "code"})
        self.assertEqual(bob.referrer_id, self.alice)
        with self.assertRaisesRegex(UserError, "already bound to Alice"):
            bob.action_bind_referrer(self._code(self.carol))
        # the automatic paths (link, signup, order) skip silently
        self.assertFalse(
            self.Node._bind_partner_by_code(self.bob, self._code(self.carol), "order")
        )
        self.assertEqual(bob.referrer_id, self.alice)
        [log] = self._logs(self.bob)
        self.assertEqual(
            (log.kind, log.source, log.new_parent_id),
            ("bind", "code", self._node(self.alice)),
        )

    def test_self_referral_is_refused_and_changes_nothing(self):
        alice = self._member(self.alice)
        with self.assertRaisesRegex(UserError, "cannot refer themselves"):
            alice.action_bind_referrer(alice.referral_code)
        self.assertFalse(alice.referrer_id)
        self.assertFalse(self._logs(self.alice))
        with self.assertRaisesRegex(UserError, "Unknown referral code"):
            alice.action_bind_referrer("NOPE-NOPE")

    def test_cycles_are_refused_and_change_nothing(self):
        self._chain(self.alice, self.bob, self.carol)  # alice -> bob -> carol
        alice, carol = self._node(self.alice), self._node(self.carol)
        paths = {node: node.parent_path for node in self.members.referral_node_id}
        with self.assertRaisesRegex(UserError, "referral cycle"):
            self._member(self.alice).action_bind_referrer(carol.code)
        with self.assertRaisesRegex(UserError, "referral cycle"):
            alice._reassign(carol, "move the top under the bottom")
        with self.assertRaisesRegex(UserError, "cannot refer themselves"):
            alice._reassign(alice, "itself")
        self.env.invalidate_all()
        self.assertEqual(
            {node: node.parent_path for node in self.members.referral_node_id}, paths
        )
        self.assertFalse(self._logs(self.alice))

    def test_manager_reassigns_with_reason_and_booked_amounts_stay(self):
        self._chain(self.alice, self.bob, self.carol)
        self._buy(self.carol)
        carol_member = self._member(self.carol)
        booked = (
            carol_member.points_held,
            carol_member.wallet_balance,
            self.env["points.pool.move"].search_count([]),
            self.pool.fund,
        )
        bob, dave = self._node(self.bob), self._node(self.dave)
        with self.assertRaisesRegex(UserError, "Give a reason"):
            bob._reassign(dave, "  ")
        clerk = new_test_user(
            self.env, "pp_clerk", groups="points_pool.points_pool_group_user"
        )
        with self.assertRaises(AccessError):
            bob.with_user(clerk)._reassign(dave, "not a manager")
        wizard = self.env["points.referral.reassign"].create(
            {"node_id": bob.id, "parent_id": dave.id, "reason": "moved to Dave's shop"}
        )
        wizard.action_reassign()
        self.assertEqual(bob.parent_id, dave)
        # the whole team moved: carol's path now runs through dave and bob
        self.assertEqual(
            self._node(self.carol).parent_path,
            f"{dave.id}/{bob.id}/{self._node(self.carol).id}/",
        )
        self.assertEqual(self._node(self.carol)._get_upline(), bob | dave)
        log = self._logs(self.bob)[0]
        self.assertEqual(
            (log.kind, log.old_parent_id, log.new_parent_id, log.reason),
            ("reassign", self._node(self.alice), dave, "moved to Dave's shop"),
        )
        self.assertIn("moved to Dave", self._member(self.bob).message_ids[0].body)
        self.env.invalidate_all()
        self.assertEqual(
            (
                carol_member.points_held,
                carol_member.wallet_balance,
                self.env["points.pool.move"].search_count([]),
                self.pool.fund,
            ),
            booked,
        )

    def test_first_order_binds_unbound_customer_only(self):
        erin = self.env["res.partner"].create({"name": "Erin"})
        draft = self.env["sale.order"].create(
            {
                "partner_id": erin.id,
                "points_referral_code": self._code(self.alice),
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "price_unit": 100.0})
                ],
            }
        )
        draft.action_confirm()
        self.assertEqual(self._member(erin).referrer_id, self.alice)
        self.assertEqual(self._member(erin).bind_source, "order")
        self.assertEqual(draft.points_referrer_id, self.alice)
        second = draft.copy({"points_referral_code": self._code(self.bob)})
        second.action_confirm()
        self.assertEqual(self._member(erin).referrer_id, self.alice)
        # an unknown code neither binds nor blocks the sale
        frank = self.env["res.partner"].create({"name": "Frank"})
        third = draft.copy({"partner_id": frank.id, "points_referral_code": "ZZZZ"})
        third.action_confirm()
        self.assertEqual(third.state, "sale")
        self.assertFalse(self._member(frank))

    def test_store_qr_binds_to_the_store_owner(self):
        store = self.env["res.partner"].create(
            {
                "name": "Corner Shop",
                "is_company": True,
                "is_points_store": True,
                "points_store_owner_id": self.dave.id,
            }
        )
        self.assertEqual(len(store.points_store_code), referral.CODE_LENGTH)
        self.assertTrue(store.points_store_url.endswith(store.points_store_code))
        with self.assertRaisesRegex(ValidationError, "needs an owner"):
            self.env["res.partner"].create({"name": "X", "is_points_store": True})
        node = self.Node._bind_partner_by_code(
            self.carol, store.points_store_code, "signup"
        )
        self.assertEqual(node, self._node(self.carol))
        self.assertEqual(
            (node.parent_id, node.bind_source, node.bind_store_id),
            (self._node(self.dave), "store", store),
        )

    def test_upline_of_depth_20_in_one_query(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Chain {i}"} for i in range(21)]
        )
        members = self.env["points.member"]._get_or_create(self.pool, partners)
        by_partner = {member.partner_id: member.referral_node_id for member in members}
        nodes = self.Node.union(*[by_partner[partner] for partner in partners])
        for parent, node in zip(nodes, nodes[1:], strict=False):
            node._bind(parent, "manager")
        self.assertEqual(nodes[-1].depth, 20)
        self.assertEqual(nodes[5].depth, 5)
        for node, depth in ((nodes[5], 5), (nodes[-1], 20)):
            self.env.invalidate_all()
            node.fetch(["parent_path"])
            with self.assertQueryCount(1):
                upline = node._get_upline()
                ranks = upline.mapped("rank_id")  # noqa: F841 (read, no query)
                names = upline.mapped("partner_id")  # noqa: F841
            self.assertEqual(len(upline), depth)
            self.assertEqual(upline[0], nodes[depth - 1])  # nearest first
            self.assertEqual(upline[-1], nodes[0])

    def test_downline_of_10000_in_constant_queries(self):
        """A root with 100 directs of 99 members each: 10,000 below it."""
        partners = self.env["res.partner"].create(
            [{"name": f"Team {i}"} for i in range(10_001)]
        )
        members = self.env["points.member"]._get_or_create(self.pool, partners)
        ids = members.referral_node_id.sorted("id").ids
        root, directs, rest = ids[0], ids[1:101], ids[101:]
        self.env.flush_all()
        # shape the tree set-based (creating 10k bindings one by one is not the point)
        self.env.cr.execute(
            "UPDATE points_referral_node SET parent_id = %s WHERE id = ANY(%s)",
            [root, directs],
        )
        self.env.cr.execute(
            "UPDATE points_referral_node n SET parent_id = d.direct "
            "FROM (SELECT unnest(%s::int[]) AS id, "
            "      unnest(%s::int[]) AS direct) d WHERE n.id = d.id",
            [rest, [directs[i % 100] for i in range(len(rest))]],
        )
        self.Node._parent_store_compute()
        self.env.invalidate_all()
        root = self.Node.browse(root)
        root.fetch(["parent_path"])
        with self.assertQueryCount(1):
            downline = root._get_downline()
        self.assertEqual(len(downline), 10_000)
        with self.assertQueryCount(2):
            stats = root._get_team_stats()[root.id]
        self.assertEqual((stats["direct"], stats["team"]), (100, 10_000))
        leaf = self.Node.browse(rest[-1])
        with self.assertQueryCount(2):  # parent_path, then the 2 ancestors
            self.assertEqual(len(leaf._get_upline()), 2)

    def test_team_volume_counts_settled_sales_only(self):
        self._chain(self.alice, self.bob, self.carol)
        self._buy(self.carol, 1000.0)
        self._buy(self.bob, 500.0)
        self._buy(self.dave, 700.0)  # not in the team
        self._buy(self.alice, 300.0, settle=False)
        self._order(self.carol, 400.0)  # confirmed, not paid: not volume
        alice, bob = self._member(self.alice), self._member(self.bob)
        self.assertEqual(
            (alice.direct_count, alice.team_count, alice.team_volume), (1, 2, 1500.0)
        )
        self.assertEqual((bob.team_count, bob.team_volume), (1, 1000.0))
        self.assertEqual(self._node(self.bob).own_volume, 500.0)
        info = alice.get_referral_info()
        self.assertEqual(info["direct_members"], ["Bob"])
        self.assertEqual((info["team_count"], info["team_volume"]), (2, 1500.0))
        self.assertEqual(info["own_volume"], 0.0)  # the 300 waits for settlement

    def test_ranks_by_settled_volume_and_package(self):
        Rank = self.env["points.rank"]
        company = self.env.company
        package = self.env["product.product"].create(
            {"name": "Director package", "type": "consu", "list_price": 100.0}
        )
        member, partner, cofounder, director = Rank.create(
            [
                {
                    "name": "会员",
                    "level": 1,
                    "use_own_volume": True,
                    "min_own_volume": 500.0,
                    "company_id": company.id,
                },
                {
                    "name": "合伙人",
                    "level": 2,
                    "use_team_volume": True,
                    "min_team_volume": 1500.0,
                    "company_id": company.id,
                },
                {
                    "name": "联创",
                    "level": 3,
                    "use_own_volume": True,
                    "min_own_volume": 1000.0,
                    "use_team_volume": True,
                    "min_team_volume": 5000.0,
                    "company_id": company.id,
                },
                {
                    "name": "董事",
                    "level": 4,
                    "package_product_ids": [(6, 0, package.ids)],
                    "company_id": company.id,
                },
            ]
        )
        self._chain(self.alice, self.bob, self.carol)
        self._buy(self.carol, 1000.0)
        self._buy(self.bob, 499.0)
        self._buy(self.alice, 600.0)
        self._buy(self.dave, 100.0, product=package)
        self.Node._cron_update_ranks()
        ranks = {
            p.name: self._member(p).rank_id
            for p in (self.alice, self.bob, self.carol, self.dave)
        }
        # alice: own 600 and team 1499 -> 会员; bob: team 1000 only -> none
        self.assertEqual(
            ranks,
            {
                "Alice": member,
                "Bob": self.env["points.rank"],
                "Carol": member,
                "Dave": director,
            },
        )
        self.assertEqual(self._logs(self.dave).source, "package")
        self.pool.invalidate_recordset(["compliance_warning"])
        self.assertIn("package product: 董事", self.pool.compliance_warning)
        self._buy(self.bob, 1.0)  # bob's own 500, alice's team 1500
        self.Node._cron_update_ranks()
        self.assertEqual(self._member(self.alice).rank_id, partner)
        self.assertEqual(self._member(self.bob).rank_id, member)
        self.assertEqual(self._logs(self.alice).mapped("new_rank_id"), partner | member)
        # ranks are not taken away by the job: a refund leaves the rank
        # (a manager can lower it; that change is logged too)
        self._member(self.alice).rank_id = False
        self.assertEqual(self._logs(self.alice)[0].source, "manager")
        self.assertIn("Rank changed", self._member(self.alice).message_ids[0].body)
        self.assertFalse(cofounder.member_count)

    def test_rank_configuration_is_validated(self):
        Rank = self.env["points.rank"]
        with (
            self.assertRaisesRegex(ValidationError, "cannot be negative"),
            self.env.cr.savepoint(),
        ):
            Rank.create({"name": "neg", "level": 1, "min_own_volume": -1.0})
        with (
            self.assertRaisesRegex(ValidationError, "between 1 and 9"),
            self.env.cr.savepoint(),
        ):
            Rank.create({"name": "R0", "level": 0})
        Rank.create([{"name": f"R{level}", "level": level} for level in range(1, 10)])
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                Rank.create({"name": "dup", "level": 3})
        self.assertEqual(
            Rank.search_count([("company_id", "=", self.env.company.id)]), 9
        )

    def test_referral_cookie_days_must_be_positive(self):
        with self.assertRaisesRegex(ValidationError, "at least one day"):
            self.pool.referral_cookie_days = 0


@tagged("post_install", "-at_install")
class TestReferralViews(PointsPoolCommon):
    """Back-office views load and the printed QR cards render."""

    def test_views_load(self):
        for model, types in (
            ("points.referral.node", ["hierarchy", "list", "form", "search"]),
            ("points.referral.log", ["list", "search"]),
            ("points.rank", ["list", "form"]),
            ("points.member", ["list", "form", "search"]),
            ("points.referral.reassign", ["form"]),
        ):
            views = self.env[model].get_views([(False, kind) for kind in types])
            self.assertEqual(set(views["views"]), set(types), model)
        form = self.env["points.member"].get_views([(False, "form")])["views"]["form"]
        for name in ("upline_ids", "direct_ids", "direct_count", "team_count"):
            self.assertIn(f'name="{name}"', form["arch"])

    def test_qr_cards_render(self):
        member = self.env["points.member"]._get_or_create(self.pool, self.alice)
        store = self.env["res.partner"].create(
            {
                "name": "Kiosk",
                "is_points_store": True,
                "points_store_owner_id": self.bob.id,
            }
        )
        Report = self.env["ir.actions.report"]
        html = Report._render_qweb_html(
            "points_pool.report_points_referral_card", member.ids
        )[0].decode()
        self.assertIn(member.referral_code, html)
        self.assertIn("data:image/png;base64,", html)
        self.assertIn("not guaranteed", html)
        html = Report._render_qweb_html(
            "points_pool.report_points_store_qr", store.ids
        )[0].decode()
        self.assertIn(store.points_store_code, html)
        self.assertIn("/r/" + store.points_store_code, html)


@tagged("post_install", "-at_install")
class TestReferralLinks(PointsPoolCommon, HttpCase):
    """``/r/<code>`` and its QR over HTTP."""

    def test_link_sets_cookie_and_qr_is_served(self):
        self.pool.referral_cookie_days = 10
        member = self.env["points.member"]._get_or_create(self.pool, self.alice)
        code = member.referral_code
        response = self.url_open(f"/r/{code.lower()}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/", response.headers["Location"])
        cookie = response.headers["Set-Cookie"]
        self.assertIn(f"pp_ref={code}", cookie)
        self.assertIn(f"Max-Age={10 * 86400}", cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertEqual(self.url_open("/r/UNKNOWN234").status_code, 404)
        png = self.url_open(f"/r/{code}/qr.png")
        self.assertEqual(png.headers["Content-Type"], "image/png")
        self.assertEqual(png.content[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(self.url_open("/r/UNKNOWN234/qr.png").status_code, 404)

    def _portal_carol(self):
        user = new_test_user(
            self.env,
            "pp_carol",
            password="pp_carol_pw",
            groups="base.group_portal",
            partner_id=self.carol.id,
            company_id=self.env.company.id,
            company_ids=[(6, 0, self.env.company.ids)],
        )
        self.authenticate(user.login, "pp_carol_pw")
        return user

    def _csrf(self):
        return http.Request.csrf_token(self)

    def _alice_and_bob(self):
        return (
            self.env["points.member"]
            ._get_or_create(self.pool, self.alice | self.bob)
            .sorted(lambda m: m.partner_id.name)
        )

    def test_logged_in_visitor_get_asks_and_binds_nothing(self):
        """A GET (a link, an <img> on another site) only shows the question."""
        alice, _bob = self._alice_and_bob()
        self._portal_carol()
        logs = self.env["points.referral.log"].search_count([])
        response = self.url_open(f"/r/{alice.referral_code}", allow_redirects=False)
        self.env.invalidate_all()
        self.assertFalse(self._member(self.carol).referrer_id, "a GET bound Carol")
        self.assertEqual(self.env["points.referral.log"].search_count([]), logs)
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("pp_ref", response.headers.get("Set-Cookie", ""))
        doc = lxml.html.fromstring(response.text)
        [block] = doc.xpath("//*[contains(@class, 'o_points_referral_join')]")
        self.assertEqual(
            block.xpath("string(.//*[contains(@class, 'o_points_join_title')])"),
            "Join Alice's team?",
        )
        [form] = doc.xpath("//form[contains(@class, 'o_points_join_form')]")
        self.assertEqual(form.get("method"), "post")
        self.assertEqual(form.get("action"), f"/r/{alice.referral_code}/join")
        self.assertTrue(form.xpath(".//input[@name='csrf_token']/@value"))
        self.assertEqual(
            doc.xpath("//a[contains(@class, 'o_points_join_decline')]/@href"),
            ["/my/points"],
        )
        # the referrer's name only: no code, no other member data, no inline JS
        self.assertNotIn(alice.referral_code, block.text_content())
        self.assertFalse(block.xpath(".//script"))
        self.assertFalse(
            [name for node in block.iter() for name in node.attrib if name[:2] == "on"]
        )

    def test_logged_in_visitor_binds_on_post_with_csrf_only(self):
        alice, bob = self._alice_and_bob()
        self._portal_carol()
        url = f"/r/{alice.referral_code}/join"
        # a forged POST (no or a wrong CSRF token) is refused
        for data in ({"confirm": "1"}, {"csrf_token": "forged0123o9999999999"}):
            with mute_logger("odoo.http"):
                response = self.url_open(url, data=data, allow_redirects=False)
            self.assertEqual(response.status_code, 400, data)
            self.env.invalidate_all()
            self.assertFalse(self._member(self.carol).referrer_id, data)
        # the confirmation binds, once
        response = self.url_open(
            url, data={"csrf_token": self._csrf()}, allow_redirects=False
        )
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        carol = self._member(self.carol)
        self.assertEqual((carol.referrer_id, carol.bind_source), (self.alice, "link"))
        self.assertTrue(
            response.headers["Location"].endswith(f"/my/points/{carol.id}/team?bound=1")
        )
        # the next GET of another link asks nothing and changes nothing
        response = self.url_open(f"/r/{bob.referral_code}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my/points"))
        self.env.invalidate_all()
        self.assertEqual(carol.referrer_id, self.alice)

    def test_store_link_asks_then_binds_to_the_owner(self):
        store = self.env["res.partner"].create(
            {
                "name": "Corner Shop",
                "is_points_store": True,
                "points_store_owner_id": self.dave.id,
            }
        )
        self._portal_carol()
        code = store.points_store_code
        response = self.url_open(f"/r/{code}", allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        doc = lxml.html.fromstring(response.text)
        self.assertEqual(
            doc.xpath("string(//*[contains(@class, 'o_points_join_title')])"),
            "Join Dave's team?",
        )
        self.assertFalse(self._member(self.dave), "a GET enrolled the store's owner")
        self.assertFalse(self._member(self.carol).referrer_id)
        self.url_open(
            f"/r/{code}/join", data={"csrf_token": self._csrf()}, allow_redirects=False
        )
        self.env.invalidate_all()
        carol = self._member(self.carol)
        self.assertEqual((carol.referrer_id, carol.bind_source), (self.dave, "store"))

    def test_bound_member_post_changes_nothing(self):
        alice, bob = self._alice_and_bob()
        self._portal_carol()
        carol = self.env["points.member"]._get_or_create(self.pool, self.carol)
        carol.action_bind_referrer(bob.referral_code)
        logs = self.env["points.referral.log"].search_count([])
        response = self.url_open(f"/r/{alice.referral_code}", allow_redirects=False)
        self.assertEqual(response.status_code, 303, "a bound member is not asked")
        response = self.url_open(
            f"/r/{alice.referral_code}/join",
            data={"csrf_token": self._csrf()},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/my/points"))
        self.env.invalidate_all()
        self.assertEqual((carol.referrer_id, carol.bind_source), (self.bob, "code"))
        self.assertEqual(self.env["points.referral.log"].search_count([]), logs)
        # an own code is not asked either
        response = self.url_open(f"/r/{carol.referral_code}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)


@tagged("post_install", "-at_install")
class TestReferralHardening(PointsPoolCommon, HttpCase):
    """Review findings: cookies of staff, protected fields, forged requests."""

    def test_salesperson_cookie_does_not_bind_customers(self):
        alice = self.env["points.member"]._get_or_create(self.pool, self.alice)
        erin = self.env["res.partner"].create({"name": "Erin"})
        order = self.env["sale.order"].create(
            {
                "partner_id": erin.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "price_unit": 10.0})
                ],
            }
        )
        # the salesperson's own browser remembers Alice's link
        order.with_context(points_referral_code=alice.referral_code).action_confirm()
        self.assertFalse(self._member(erin))
        # the customer confirming their own order with the cookie is bound
        frank = self.env["res.partner"].create({"name": "Frank"})
        user = new_test_user(
            self.env, "pp_frank", groups="base.group_portal", partner_id=frank.id
        )
        # (the portal's quotation acceptance confirms as sudo, for that user)
        own = order.copy({"partner_id": frank.id})
        own.with_user(user).sudo().with_context(
            points_referral_code=alice.referral_code
        ).action_confirm()
        self.assertEqual(self._member(frank).referrer_id, self.alice)
        self.assertEqual(self._member(frank).bind_source, "order")

    def test_staff_opening_a_link_is_not_bound(self):
        alice = self.env["points.member"]._get_or_create(self.pool, self.alice)
        clerk = new_test_user(
            self.env,
            "pp_staff",
            password="pp_staff_pw",
            groups="base.group_user",
            company_id=self.env.company.id,
            company_ids=[(6, 0, self.env.company.ids)],
        )
        self.authenticate("pp_staff", "pp_staff_pw")
        response = self.url_open(f"/r/{alice.referral_code}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertFalse(self._member(clerk.partner_id))
        self.url_open(
            f"/r/{alice.referral_code}/join",
            data={"csrf_token": http.Request.csrf_token(self)},
            allow_redirects=False,
        )
        self.assertFalse(self._member(clerk.partner_id))

    def test_balances_and_tree_are_not_writable(self):
        member = self.env["points.member"]._get_or_create(self.pool, self.alice)
        user = new_test_user(
            self.env, "pp_user", groups="points_pool.points_pool_group_user"
        )
        with self.assertRaisesRegex(UserError, "only through pool operations"):
            member.with_user(user).write({"wallet_balance": 1_000_000.0})
        with self.assertRaisesRegex(UserError, "empty balances"):
            self.env["points.member"].with_user(user).create(
                {
                    "partner_id": self.bob.id,
                    "pool_id": self.pool.id,
                    "wallet_balance": 5.0,
                }
            )
        bob = self.env["points.member"]._get_or_create(self.pool, self.bob)
        manager = new_test_user(
            self.env, "pp_manager", groups="points_pool.points_pool_group_manager"
        )
        with self.assertRaisesRegex(UserError, "which are logged"):
            bob.referral_node_id.with_user(manager).write(
                {"parent_id": member.referral_node_id.id}
            )
        self.assertFalse(bob.referrer_id)
        self.assertEqual(member.wallet_balance, 0.0)

    def test_portal_user_sees_no_names_in_a_cycle_error(self):
        alice, bob = (
            self.env["points.member"]
            ._get_or_create(self.pool, self.alice | self.bob)
            .sorted(lambda m: m.partner_id.name)
        )
        bob.action_bind_referrer(alice.referral_code)  # alice -> bob
        user = new_test_user(
            self.env,
            "pp_alice",
            groups="base.group_portal",
            partner_id=self.alice.id,
            company_id=self.env.company.id,
            company_ids=[(6, 0, self.env.company.ids)],
        )
        with self.assertRaises(UserError) as caught:
            alice.with_user(user).action_bind_referrer(bob.referral_code)
        self.assertIn("a member of your own team", str(caught.exception))
        self.assertNotIn("Bob", str(caught.exception))
        self.assertFalse(alice.referrer_id)

    def test_withdrawal_requests_cannot_be_forged(self):
        member = self.env["points.member"]._get_or_create(self.pool, self.alice)
        with self.assertRaisesRegex(UserError, "nothing else"):
            self.env["points.withdrawal"].create(
                {"member_id": member.id, "amount": 1.0, "state": "approved"}
            )
        self.assertFalse(self.env["points.withdrawal"].search([]))

    def test_manager_made_root_stays_unbound(self):
        alice, bob = (
            self.env["points.member"]
            ._get_or_create(self.pool, self.alice | self.bob)
            .sorted(lambda m: m.partner_id.name)
        )
        bob.action_bind_referrer(alice.referral_code)
        bob.referral_node_id._reassign(self.env["points.referral.node"], "own shop")
        self.assertFalse(bob.referrer_id)
        self.assertFalse(
            self.env["points.referral.node"]._bind_partner_by_code(
                self.bob, alice.referral_code, "order"
            )
        )
        self.assertFalse(bob.referrer_id)

    def test_public_store_link_creates_nothing(self):
        store = self.env["res.partner"].create(
            {
                "name": "Kiosk",
                "is_points_store": True,
                "points_store_owner_id": self.dave.id,
            }
        )
        self.assertFalse(self._member(self.dave))
        response = self.url_open(f"/r/{store.points_store_code}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn(
            f"pp_ref={store.points_store_code}", response.headers["Set-Cookie"]
        )
        self.assertFalse(self._member(self.dave), "a public GET enrolled the owner")
        # the binding enrols the owner
        self.env["points.referral.node"]._bind_partner_by_code(
            self.carol, store.points_store_code, "signup"
        )
        self.assertEqual(self._member(self.carol).referrer_id, self.dave)

    def test_invited_user_setting_a_password_is_enrolled_and_bound(self):
        alice = self.env["points.member"]._get_or_create(self.pool, self.alice)
        user = new_test_user(
            self.env,
            "pp_invited",
            groups="base.group_portal",
            partner_id=self.carol.id,
            company_id=self.env.company.id,
            company_ids=[(6, 0, self.env.company.ids)],
        )
        self.assertFalse(self._member(self.carol))
        token = self.carol.sudo()._generate_signup_token()
        self.env["res.users"].with_context(
            points_referral_code=alice.referral_code
        ).signup({"password": "pp_invited_pw"}, token)
        self.assertEqual(user.partner_id, self.carol)
        self.assertEqual(self._member(self.carol).referrer_id, self.alice)
        self.assertEqual(self._member(self.carol).bind_source, "signup")
