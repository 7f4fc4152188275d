"""SPEC 6 in one place (issue 13): core/compliance.py and the compliance report."""

from fractions import Fraction

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import BaseCase, new_test_user, tagged

from ..core import compliance
from .test_commission import CommissionCommon

REPORT = "points_pool.points_pool_compliance_report"
REPORT_HTML = "points_pool.points_pool_compliance_report_html"


@tagged("post_install", "-at_install")
class TestCoreCompliance(BaseCase):
    def test_static_return_is_exact(self):
        self.assertEqual(compliance.static_return(Fraction(1, 5), 3), Fraction(12, 5))
        self.assertEqual(
            compliance.static_return_warnings(Fraction(1, 5), 3),
            [(compliance.STATIC_RETURN, {"ratio": Fraction(12, 5)})],
        )
        # the seeds' advice: 1.2x at 80% kept, i.e. r = 20%, m = 1.5
        self.assertEqual(
            compliance.static_return(Fraction(1, 5), Fraction(3, 2)), Fraction(6, 5)
        )
        # r = 84%, m = 6.25: exactly 1, no warning; floats would say 1.0000000000000002
        self.assertGreater((1 - 84 / 100) * 6.25, 1)
        self.assertEqual(compliance.static_return("0.84", "6.25"), 1)
        self.assertEqual(compliance.static_return_warnings("0.84", "6.25"), [])
        self.assertEqual(compliance.static_return_warnings(Fraction(1, 5), 1), [])
        with self.assertRaises(TypeError):
            compliance.static_return(0.2, 3)

    def test_referral_pay_threshold(self):
        self.assertFalse(compliance.above_referral_limit(100, 1000))
        self.assertTrue(compliance.above_referral_limit(101, 1000))
        self.assertFalse(compliance.above_referral_limit(5, 0))
        self.assertEqual(compliance.referral_warnings(100, 1000), [])
        self.assertEqual(
            compliance.referral_warnings(150, 1000),
            [
                (
                    compliance.REFERRAL_PAY,
                    {"pay": 150, "amount": 1000, "share": Fraction(3, 20)},
                )
            ],
        )
        self.assertIsNone(compliance.referral_share(1, 0))

    def test_depth_packages_and_order_of_plan_warnings(self):
        self.assertEqual(compliance.depth_warnings(2), [])
        self.assertEqual(
            compliance.depth_warnings(3, True),
            [(compliance.DEPTH, {"depth": 3, "acknowledged": True})],
        )
        self.assertEqual(compliance.package_warnings([]), [])
        codes = [
            code
            for code, _values in compliance.plan_warnings(
                3, False, 150, 1000, Fraction(1, 5), 3, ["董事"]
            )
        ]
        self.assertEqual(
            codes,
            [
                compliance.DEPTH,
                compliance.REFERRAL_PAY,
                compliance.STATIC_RETURN,
                compliance.PACKAGE_RANKS,
            ],
        )
        self.assertEqual(
            compliance.plan_warnings(2, False, 100, 1000, Fraction(1, 5), "1.25"), []
        )

    def test_mechanisms_and_risk_tags(self):
        self.assertEqual(
            compliance.enabled_mechanisms(),
            [(compliance.POOL, compliance.RISK_POOL)],
        )
        self.assertEqual(
            compliance.enabled_mechanisms(
                ["peer", "direct", "direct"],
                cash_share=Fraction(4, 5),
                vesting_rate=Fraction(1, 100),
            ),
            [
                (compliance.POOL, compliance.RISK_POOL),
                (compliance.CREDIT, compliance.RISK_CREDIT),
                (compliance.VESTING, compliance.RISK_VESTING),
                ("direct", compliance.RISK_REFERRAL),
                ("peer", compliance.RISK_TEAM),
            ],
        )
        with self.assertRaises(ValueError):
            compliance.enabled_mechanisms(["see_point"])
        # every commission kind has a tag
        for kind in compliance.commission.KINDS:
            self.assertIn(compliance.risk_tag(kind), compliance.RISK_TAGS.values())
        # the tags and the referral pay come from the kinds' definitions
        self.assertEqual(compliance.risk_tag("rank_differential"), compliance.RISK_TEAM)
        self.assertEqual(compliance.risk_tag("regional"), compliance.RISK_TERRITORY)
        self.assertEqual(
            compliance.referral_kinds()[:4],
            ("direct", "indirect", "rank_differential", "peer"),
        )
        self.assertTrue(
            all(
                compliance.commission.KINDS[kind].risk_tag
                in (compliance.RISK_REFERRAL, compliance.RISK_TEAM)
                for kind in compliance.referral_kinds()
            )
        )

    def test_top_share(self):
        self.assertEqual(compliance.top_share([]).members, 0)
        self.assertIsNone(compliance.top_share([0, 0]).share)
        # 150 members: the top 1% is ceil(1.5) = 2 members
        amounts = [100] * 148 + [5000, 10000]
        top = compliance.top_share(amounts)
        self.assertEqual((top.members, top.population), (2, 150))
        self.assertEqual(top.paid, 15000)
        self.assertEqual(top.share, Fraction(15000, 29800))
        self.assertEqual(compliance.top_share([3, 1]).share, Fraction(3, 4))

    def test_below_spend_and_pay(self):
        rows = [
            compliance.MemberRow(1, spent=0, commission=150, referral=150),
            compliance.MemberRow(2, spent=1000, pool_paid=900, commission=100),
            compliance.MemberRow(3, spent=1000, pool_paid=999),
            compliance.MemberRow(4, spent=1000, pool_paid=1001),
        ]
        spend = compliance.below_spend(rows)
        self.assertEqual(
            (spend.spenders, spend.below, spend.recovered, spend.earned), (3, 1, 2, 1)
        )
        self.assertEqual(spend.below_share, Fraction(1, 3))
        self.assertEqual(spend.recovered_share, Fraction(2, 3))
        self.assertEqual(compliance.below_spend([(10, 5), (0, 5)]).below, 1)
        self.assertIsNone(compliance.below_spend([]).below_share)
        figures = compliance.member_figures(rows)
        self.assertEqual(figures["received"], 900 + 999 + 1001 + 250)
        pay = figures["pay"]
        self.assertEqual(pay.referral_over_pool, Fraction(150, 2900))
        self.assertEqual(pay.commission_over_pool, Fraction(250, 2900))
        self.assertEqual(pay.referral_over_spent, Fraction(150, 3000))
        self.assertEqual(pay.commission_share, Fraction(250, 3150))
        self.assertIsNone(compliance.pay_vs_payouts(10, 10, 0).referral_over_pool)
        self.assertEqual(
            compliance.promised_at_exit(Fraction(1, 5), 281632), Fraction(1126528, 5)
        )


@tagged("post_install", "-at_install")
class TestCompliance(CommissionCommon):
    """Orders, commissions, a forced exit and a sale, then the report.

    Seeds' pool (30% in, 70% minted, r = 20%, m = 3, p0 = 1); plan: direct 10%
    and indirect 5% of the amount; Alice > Bob > Carol.

    ======================  ===============================================
    Bob buys 1000           inflow 300, 210 points at 1; P 300, S 210;
                            Alice direct 100
    Carol buys 1000         147 points at 10/7; P 600, S 357; Bob direct
                            100, Alice indirect 50 (15% of the order)
    inject 4500             P 5100, price 100/7 = Bob's trigger 3000/210:
                            Bob is forced out, V = 3000, paid 2400
    Carol sells 10          gross 10 * 2700/147 = 183.67..., paid 146.93
    ======================  ===============================================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["points.member"]._get_or_create(
            cls.pool, cls.alice | cls.bob | cls.carol
        )

    def _scenario(self):
        self._chain(self.alice, self.bob, self.carol)
        self._plan(
            [{"kind": "direct", "rate": 10.0}, {"kind": "indirect", "rate": 5.0}]
        )
        self._buy(self.bob)
        self._buy(self.carol)
        lines = self.pool._inject(4500.0)
        self.assertEqual(lines.filtered(lambda line: line.kind == "exit").wallet, 2400)
        sell = self._sell_line(self._member(self.carol), 10.0)
        self.assertAlmostEqual(sell.wallet, 146.93, places=2)

    def _html(self, lang=None, data=None, report=REPORT_HTML):
        Report = self.env["ir.actions.report"].with_context(lang=lang or "en_US")
        return Report._render_qweb_html(report, self.pool.ids, data=data)[0].decode()

    def test_figures_against_the_hand_computation(self):
        self._scenario()
        figures = self.env["report.points_pool.compliance"]._get_figures(self.pool)
        members = figures["members"]
        self.assertEqual(members["members"], 3)  # Alice was paid, never spent
        self.assertEqual(members["spent"], 200000)
        self.assertEqual(members["pool_paid"], 240000 + 14693)
        self.assertEqual(members["referral"], 10000 + 10000 + 5000)
        self.assertEqual(members["commission"], 25000)
        pay = members["pay"]
        self.assertEqual(pay.referral_over_pool, Fraction(25000, 254693))
        self.assertEqual(pay.commission_over_pool, Fraction(25000, 254693))
        # received: Alice 150, Bob 2400 + 100, Carol 146.93; top 1% = Bob
        top = members["top"]
        self.assertEqual((top.members, top.population), (1, 3))
        self.assertEqual(top.share, Fraction(250000, 250000 + 15000 + 14693))
        spend = members["spend"]
        self.assertEqual((spend.spenders, spend.below, spend.earned), (2, 1, 1))
        self.assertEqual(spend.below_share, Fraction(1, 2))
        ledger = figures["ledger"]
        self.assertEqual((ledger["exits"], ledger["exit_paid"]), (1, 240000))
        self.assertEqual((ledger["sells"], ledger["sell_paid"]), (1, 14693))
        self.assertEqual(ledger["injected"], 450000)
        self.assertEqual(ledger["inflow"], 60000)
        self.assertEqual(ledger["price_falls"], 0)
        # Carol's order paid 150 of referral pay: above 10%; Bob's paid 100: not
        self.assertEqual((ledger["orders_above"], ledger["paid_orders"]), (1, 2))
        self.assertEqual(ledger["top_order_share"], Fraction(3, 20))
        self.assertEqual(ledger["max_level"], 2)
        self.assertEqual(figures["depth"], 2)
        self.assertEqual(figures["static_return"], Fraction(12, 5))
        # Carol's open lot: cap 3000, realized ceil(183.673...) = 183.68
        self.assertEqual(ledger["open_gap"], 300000 - 18368)
        self.assertEqual(figures["promised"], Fraction(4, 5) * (300000 - 18368))
        self.assertEqual(figures["fund"], 510000 - 240000 - 14693)

        html = self._html()
        for text in (
            "Compliance report",
            "Enabled mechanisms and their risks",
            "referral pay (二级分销)",
            "Direct (level 1)",
            "2.4000",  # (1 - r) * m
            "Referral pay reaches",  # the plan's warning on the reference order
            "1 of 2 orders that paid referral pay",
            "15.00%",
            "9.82%",  # referral pay / pool payouts = 25000 / 254693
            "89.38%",  # top 1% share = 250000 / 279693
            "50.00%",  # members below their spend
            "积分价格永远单边上扬",
            "几乎所有用户都能免费消费还赚钱",
            "1 of 2 members who spent (50.00%) got their spend back",
            "Price path if new consumption stops today",
            "链动2+1",
            # the seeds' health-value variant, named with the reason
            "locked points released faster per shared friend",
            "cultivating three 3-stars",
            "halving issuance of tradable 健康积分",
            "merchant 打赏 rewards paid to both sides",
            "a securities-like issuance",
        ):
            self.assertIn(text, html)
        self.assertIn("2,546.93", html)  # pool payouts
        self.assertIn("2,400.00", html)  # the forced exit

    def test_simulation_section(self):
        self._scenario()
        path = self.env["report.points_pool.compliance"]._get_simulation(self.pool)
        # nothing comes in: the price does not move from today's
        # P / S = 2553.07 / 137
        self.assertEqual(path[0], (0, "18.635547"))
        self.assertEqual({price for _day, price in path}, {"18.635547"})
        html = self._html()
        self.assertIn("18.635547", html)
        self.assertNotIn("Simulation not available.", html)
        # the report takes no simulation from its caller: only its own run
        html = self._html(data={"simulation": [[0, "99.5"]]})
        self.assertNotIn("99.5", html)

    def test_report_for_a_draft_plan_of_the_company(self):
        self._scenario()
        active = self.env["points.commission.plan"].search(
            [("company_id", "=", self.pool.company_id.id), ("state", "=", "active")]
        )
        draft = self._plan(
            [
                {"kind": "direct", "rate": 10.0},
                {"kind": "peer", "rate": 5.0, "levels": 3},
            ],
            acknowledged=True,
            activate=False,
            name="Three levels (draft)",
        )
        self.assertEqual((draft.state, draft.depth), ("draft", 3))
        Report = self.env["report.points_pool.compliance"]
        figures = Report._get_figures(self.pool, Report._plan_of(self.pool, {}))
        self.assertEqual((figures["plan"], figures["depth"]), (active, 2))
        data = {"plan_id": draft.id}
        figures = Report._get_figures(self.pool, Report._plan_of(self.pool, data))
        self.assertEqual((figures["plan"], figures["depth"]), (draft, 3))
        # the ledger's figures do not depend on the plan looked at
        self.assertEqual(figures["members"]["referral"], 25000)
        html = self._html(data=data)
        self.assertIn("Three levels (draft)", html)
        self.assertIn("(<span>Draft</span>)", html)
        action = draft.action_compliance_report()
        self.assertEqual(action["data"], {"plan_id": draft.id})
        self.assertEqual(action["report_name"], "points_pool.compliance")
        # a plan of another company is refused
        other = self.env["res.company"].create({"name": "PP other compliance co"})
        foreign = self.env["points.commission.plan"].create(
            {"name": "Foreign", "company_id": other.id}
        )
        with self.assertRaises(AccessError):
            Report._plan_of(self.pool, {"plan_id": foreign.id})

    def test_demo_pool_and_the_seeds_plan(self):
        """The demo database: the report's figures are the ledger's (counted
        here through the ORM), for the active plan and for the seeds' plan."""
        env = self.env(su=True)  # the demo company is not the test user's
        company = env.ref("base.main_company")
        pool = env["points.pool"].search([("company_id", "=", company.id)])
        seeds = (
            env["points.commission.plan"]
            .sudo()
            .search([("company_id", "=", company.id), ("name", "like", "种子方案")])
        )
        if not seeds:
            self.skipTest("the demo data is not installed")
        Move = env["points.pool.move"]
        exits = Move.search([("pool_id", "=", pool.id), ("kind", "=", "exit")])
        sells = Move.search([("pool_id", "=", pool.id), ("kind", "=", "sell")])
        digits = pool.currency_id.decimal_places
        Report = env["report.points_pool.compliance"]
        figures = Report._get_figures(pool)
        ledger = figures["ledger"]
        self.assertEqual(ledger["exits"], len(exits))
        self.assertGreater(ledger["exits"], 0)
        self.assertEqual(
            ledger["exit_paid"], round(sum(exits.mapped("wallet")) * 10**digits)
        )
        self.assertEqual(ledger["sells"], len(sells))
        self.assertEqual(
            ledger["sell_paid"], round(sum(sells.mapped("wallet")) * 10**digits)
        )
        self.assertEqual(figures["plan"].state, "active")
        lots = env["points.lot"].search(
            [("pool_id", "=", pool.id), ("state", "!=", "cancelled")]
        )
        self.assertEqual(
            figures["members"]["spent"],
            round(sum(lots.mapped("basis")) * 10**digits),
        )
        self.assertEqual(figures["static_return"], Fraction(12, 5))
        seeds_figures = Report._get_figures(
            pool, Report._plan_of(pool, {"plan_id": seeds.id})
        )
        self.assertEqual(seeds_figures["depth"], 3)
        self.assertTrue(seeds_figures["depth_acknowledged"])
        self.assertEqual(seeds_figures["ledger"], ledger)
        html = (
            env["ir.actions.report"]
            ._render_qweb_html(REPORT_HTML, pool.ids, data={"plan_id": seeds.id})[0]
            .decode()
        )
        for text in ("种子方案", "积分价格永远单边上扬", "链动2+1"):
            self.assertIn(text, html)

    def test_chinese_labels_and_access(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["points_pool"], ["zh_CN"])
        self._scenario()
        html = self._html(lang="zh_CN")
        for text in (
            "合规报告",
            "已启用的机制及其风险",
            "如果今天起不再有新消费，价格走势",
        ):
            self.assertIn(text, html)
        self.assertIn("积分价格总是上涨。", html)  # a python string
        self.assertEqual(self.env.ref(REPORT).report_type, "qweb-pdf")
        self.assertEqual(self.env.ref(REPORT).binding_model_id.model, "points.pool")
        accountant = new_test_user(
            self.env,
            "pp_compliance_accountant",
            groups="points_pool.points_pool_group_accountant",
        )
        clerk = new_test_user(
            self.env, "pp_compliance_clerk", groups="points_pool.points_pool_group_user"
        )
        Report = self.env["ir.actions.report"]
        html = (
            Report.with_user(accountant)
            ._render_qweb_html(REPORT, self.pool.ids)[0]
            .decode()
        )
        self.assertIn("Compliance report", html)
        with self.assertRaises(AccessError):
            Report.with_user(clerk)._render_qweb_html(REPORT, self.pool.ids)

    def test_package_ranks_are_flagged_in_the_banner_and_the_plan(self):
        package = self.env["product.product"].create(
            {"name": "PP package", "type": "consu", "list_price": 100.0}
        )
        plan = self._plan([{"kind": "direct", "rate": 5.0}])
        self.assertFalse(any("package" in text for text in plan._get_warnings()))
        self.env["points.rank"].create(
            {
                "name": "PP sold rank",
                "level": 7,
                "company_id": self.pool.company_id.id,
                "package_product_ids": [Command.set(package.ids)],
            }
        )
        self.pool.invalidate_recordset(["compliance_warning"])
        self.pool._compute_compliance_warning()
        self.assertIn("PP sold rank", self.pool.compliance_warning)
        self.assertTrue(any("PP sold rank" in text for text in plan._get_warnings()))
        self.assertEqual(
            self.env["points.rank"]._package_ranks(self.pool.company_id).name,
            "PP sold rank",
        )

    def test_banner_uses_the_exact_static_return(self):
        self.pool.write({"retention": 84.0, "exit_multiple": 6.25})
        self.assertFalse(self.pool.compliance_warning)
        self.pool.write({"retention": 20.0, "exit_multiple": 3.0})
        self.assertIn("2.40 times", self.pool.compliance_warning)
