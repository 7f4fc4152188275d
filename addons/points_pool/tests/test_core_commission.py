"""The commission core (SPEC section 4): the seeds' worked split, the guard, properties.

Amounts are in fen (1 yuan = 100).
"""

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase, tagged

from ..core import commission as c
from ..core.commission import CommissionError, Line, Order, Rule, Upline

PARTNER, COFOUNDER, DIRECTOR = 1, 2, 3  # 合伙人, 联创, 董事

#: the seeds' 1000 package split, as configuration only
SEEDS_PLAN = [
    Rule(1, c.DIRECT, rate=Fraction(10, 100)),
    Rule(
        2,
        c.RANK_DIFFERENTIAL,
        rank_amounts={PARTNER: 1000, COFOUNDER: 2000, DIRECTOR: 3000},
        levels=3,
    ),
    Rule(3, c.PEER, rate=Fraction(10, 100), levels=2),
    Rule(
        4,
        c.REGIONAL,
        region_amounts={"district": 300, "city": 500, "province": 800, "region": 1000},
    ),
    Rule(5, c.SERVICE_POINT, amount=2000),
    Rule(6, c.DIVIDEND, amount=4000),
]


def _by(lines):
    return {(line.kind, line.member_id): line.amount for line in lines}


@tagged("post_install", "-at_install")
class TestCommissionCore(BaseCase):
    def test_seeds_split_of_a_1000_package(self):
        """
        upline (nearest first)   rank     direct  differential  peer
        A (referrer)             合伙人    100     10
        B                        合伙人            0             10 (10% of A's 100)
        C                        董事              20 (30 - 10)
        regional: district D 3, city E 2, province F 3, region G 2 (10 in all)
        service point S 20; dividend pool 40
        """
        self.assertEqual(c.check_plan(SEEDS_PLAN, acknowledged=True), 3)
        lines = c.compute(
            SEEDS_PLAN,
            Order(amount=100_000),
            [Upline("A", PARTNER), Upline("B", PARTNER), Upline("C", DIRECTOR)],
            regions={"district": "D", "city": "E", "province": "F", "region": "G"},
            service_point="S",
        )
        self.assertEqual(
            _by(lines),
            {
                (c.DIRECT, "A"): 10_000,
                (c.RANK_DIFFERENTIAL, "A"): 1_000,
                (c.RANK_DIFFERENTIAL, "C"): 2_000,
                (c.PEER, "B"): 1_000,
                (c.REGIONAL, "D"): 300,
                (c.REGIONAL, "E"): 200,
                (c.REGIONAL, "F"): 300,
                (c.REGIONAL, "G"): 200,
                (c.SERVICE_POINT, "S"): 2_000,
                (c.DIVIDEND, None): 4_000,
            },
        )
        differential = sum(li.amount for li in lines if li.kind == c.RANK_DIFFERENTIAL)
        self.assertEqual(differential, 3_000)  # 董事's 30, shared differentially
        self.assertEqual(sum(li.amount for li in lines), 21_000)

    def test_differential_skips_lower_ranks_and_regions_without_agents(self):
        lines = c.compute(
            SEEDS_PLAN,
            Order(amount=100_000),
            [Upline("A", COFOUNDER), Upline("B", PARTNER), Upline("C", DIRECTOR)],
            regions={"city": "E", "region": "G"},
        )
        by = _by(lines)
        # B's 合伙人 10 is below the 20 already paid to A: nothing
        self.assertEqual(by[c.RANK_DIFFERENTIAL, "A"], 2_000)
        self.assertNotIn((c.RANK_DIFFERENTIAL, "B"), by)
        self.assertEqual(by[c.RANK_DIFFERENTIAL, "C"], 1_000)
        # no district agent: the city agent takes the city's 5, the region 10 - 5
        self.assertEqual((by[c.REGIONAL, "E"], by[c.REGIONAL, "G"]), (500, 500))
        self.assertNotIn((c.PEER, "B"), by)  # B's rank differs from A's

    def test_peer_bonus_stays_within_its_levels(self):
        upline = [Upline("A", PARTNER), Upline("B", PARTNER), Upline("C", PARTNER)]
        direct = Rule(1, c.DIRECT, rate=Fraction(10, 100))
        indirect = Rule(2, c.INDIRECT, rate=Fraction(5, 100))
        for levels, expected in (
            (1, {}),  # a depth-1 plan pays no peer bonus at level 2
            (2, {"B": 1_000}),  # 10% of A's direct 100
            (3, {"B": 1_000, "C": 500}),  # and 10% of B's indirect 50
        ):
            peer = Rule(3, c.PEER, rate=Fraction(10, 100), levels=levels)
            lines = c.compute([direct, indirect, peer], Order(amount=100_000), upline)
            self.assertEqual(
                {li.member_id: li.amount for li in lines if li.kind == c.PEER},
                expected,
                levels,
            )

    def test_dividend_pool_shared_30_30_40(self):
        payouts, kept = c.distribute_dividend(
            4_000,
            {
                DIRECTOR: Fraction(30, 100),
                COFOUNDER: Fraction(30, 100),
                PARTNER: Fraction(40, 100),
            },
            {
                DIRECTOR: {"d1": 1},
                COFOUNDER: {"c1": 1, "c2": 1},
                PARTNER: {"p1": 1, "p2": 1, "p3": 1},
            },
        )
        self.assertEqual(
            payouts,
            {"d1": 1_200, "c1": 600, "c2": 600, "p1": 533, "p2": 533, "p3": 533},
        )
        self.assertEqual(kept, 1)  # the dust stays in the pool
        weighted, kept = c.distribute_dividend(
            4_000, {PARTNER: Fraction(1)}, {PARTNER: {"p1": 300_000, "p2": 100_000}}
        )
        self.assertEqual((weighted, kept), ({"p1": 3_000, "p2": 1_000}, 0))
        # a rank without members keeps its share in the pool
        payouts, kept = c.distribute_dividend(4_000, {DIRECTOR: Fraction(30, 100)}, {})
        self.assertEqual((payouts, kept), ({}, 4_000))

    def test_local_life_split(self):
        """0.3% direct and 0.2% indirect of every order of a bound customer, at any
        store, and 0.5% of a store's turnover to whoever recruited the store."""
        plan = [
            Rule(1, c.DIRECT, rate=Fraction(3, 1000)),
            Rule(2, c.INDIRECT, rate=Fraction(2, 1000)),
            Rule(3, c.MERCHANT, rate=Fraction(5, 1000)),
        ]
        self.assertEqual(c.check_plan(plan), 2)
        lines = c.compute(
            plan,
            Order(amount=20_000),  # a 200 yuan order
            [Upline("A"), Upline("B"), Upline("C")],
            store_recruiter="R",
        )
        self.assertEqual(
            _by(lines),
            {(c.DIRECT, "A"): 60, (c.INDIRECT, "B"): 40, (c.MERCHANT, "R"): 100},
        )

    def test_bases_and_fixed_per_unit(self):
        order = Order(amount=100_000, margin=30_000, inflow=30_000, units={7: 3})
        plan = [
            Rule(1, c.DIRECT, base="margin", rate=Fraction(10, 100)),
            Rule(2, c.INDIRECT, base="unit", amount=150, product_id=7),
            Rule(3, c.SERVICE_POINT, base="inflow", rate=Fraction(1, 3)),
        ]
        lines = c.compute(plan, order, [Upline("A"), Upline("B")], service_point="S")
        self.assertEqual(
            _by(lines),
            {
                (c.DIRECT, "A"): 3_000,
                (c.INDIRECT, "B"): 450,
                (c.SERVICE_POINT, "S"): 10_000,
            },
        )

    def test_guard_depth(self):
        two = [
            Rule(1, c.DIRECT, rate=Fraction(1, 10)),
            Rule(2, c.INDIRECT, rate=Fraction(1, 20)),
        ]
        self.assertEqual(c.check_plan(two), 2)
        with self.assertRaises(CommissionError) as caught:
            c.check_plan(SEEDS_PLAN)
        self.assertEqual(caught.exception.code, "depth")
        self.assertEqual(caught.exception.values["depth"], 3)
        four = [
            *two,
            Rule(3, c.RANK_DIFFERENTIAL, rank_amounts={1: 100}, levels=4),
        ]
        for acknowledged in (False, True):
            with self.assertRaises(CommissionError) as caught:
                c.check_plan(four, acknowledged=acknowledged)
            self.assertEqual(caught.exception.code, "depth")
        # peer pay counts toward the depth
        peer = [*two, Rule(3, c.PEER, rate=Fraction(1, 10), levels=3)]
        self.assertEqual(c.check_plan(peer, acknowledged=True), 3)
        with self.assertRaises(CommissionError):
            c.check_plan(peer)

    def test_guard_bad_input(self):
        cases = {
            "negative": [Rule(1, c.DIRECT, rate=Fraction(-1, 100))],
            "rate_above_base": [Rule(1, c.DIRECT, rate=Fraction(101, 100))],
            "rates_above_base": [
                Rule(1, c.DIRECT, rate=Fraction(60, 100)),
                Rule(2, c.INDIRECT, rate=Fraction(50, 100)),
            ],
            "not_increasing": [
                Rule(1, c.REGIONAL, region_amounts={"district": 500, "city": 300})
            ],
            "unknown_kind": [Rule(1, "per_recruit", amount=100)],
        }
        for code, plan in cases.items():
            with self.assertRaises(CommissionError, msg=code) as caught:
                c.check_plan(plan, acknowledged=True)
            self.assertEqual(caught.exception.code, code)
        # two bases are separate: 60% of the amount and 50% of the margin is fine
        c.check_plan(
            [
                Rule(1, c.DIRECT, rate=Fraction(60, 100)),
                Rule(2, c.INDIRECT, base="margin", rate=Fraction(50, 100)),
            ]
        )

    def test_refund_reverses_pro_rata_exactly_once(self):
        lines = [Line(1, c.DIRECT, "A", 10_001), Line(2, c.SERVICE_POINT, "S", 2_000)]
        half = c.reverse(lines, Fraction(1, 2))
        self.assertEqual([li.amount for li in half], [-5_001, -1_000])
        rest = c.reverse(lines, Fraction(1, 2), already=Fraction(1, 2))
        self.assertEqual([li.amount for li in rest], [-5_000, -1_000])
        with self.assertRaises(CommissionError):
            c.reverse(lines, Fraction(1, 10), already=Fraction(1))


_plans = st.builds(
    lambda direct, indirect, ranks, regions, peer: [
        Rule(1, c.DIRECT, rate=Fraction(direct, 1000)),
        Rule(2, c.INDIRECT, rate=Fraction(indirect, 1000)),
        Rule(3, c.RANK_DIFFERENTIAL, rank_amounts=ranks, levels=3),
        Rule(4, c.PEER, rate=Fraction(peer, 100), levels=3),
        Rule(5, c.REGIONAL, region_amounts=regions),
    ],
    st.integers(0, 200),
    st.integers(0, 100),
    st.lists(st.integers(0, 5_000), min_size=1, max_size=9).map(
        lambda xs: {level + 1: amount for level, amount in enumerate(sorted(xs))}
    ),
    st.lists(st.integers(0, 2_000), min_size=4, max_size=4).map(
        lambda xs: dict(zip(c.REGION_LEVELS, sorted(xs), strict=True))
    ),
    st.integers(0, 50),
)
_uplines = st.lists(
    st.builds(Upline, st.uuids().map(str), st.integers(0, 9)), max_size=25
)
_regions = st.dictionaries(st.sampled_from(c.REGION_LEVELS), st.uuids().map(str))


@tagged("post_install", "-at_install")
class TestRuleKinds(BaseCase):
    """The registry: each kind is one definition the split and the guard read."""

    def _register(self, kind):
        """Register ``kind`` for this test only (the registry is global)."""
        self.assertNotIn(kind.code, c.KINDS)
        self.addCleanup(c.KINDS.pop, kind.code, None)
        return c.register_kind(kind)

    def test_builtin_kinds_are_registered_definitions(self):
        self.assertEqual(
            list(c.KINDS)[:8],
            [
                c.DIRECT,
                c.INDIRECT,
                c.RANK_DIFFERENTIAL,
                c.PEER,
                c.REGIONAL,
                c.SERVICE_POINT,
                c.MERCHANT,
                c.DIVIDEND,
            ],
        )
        for code, kind in c.KINDS.items():
            self.assertEqual(kind.code, code)
        self.assertEqual(
            [code for code in list(c.KINDS)[:8] if c.KINDS[code].referral],
            [c.DIRECT, c.INDIRECT, c.RANK_DIFFERENTIAL, c.PEER],
        )
        self.assertEqual(
            c.plan_inputs(SEEDS_PLAN),
            {c.UPLINE, c.REGIONS, c.SERVICE_POINT_MEMBER},
        )
        self.assertEqual(c.plan_inputs([Rule(1, c.DIVIDEND, amount=1)]), set())
        self.assertEqual(c.kind_of(c.PEER), c.KINDS[c.PEER])
        with self.assertRaises(CommissionError) as caught:
            c.kind_of("per_recruit")
        self.assertEqual(caught.exception.code, "unknown_kind")

    def test_registering_twice(self):
        # the same definition again is a no-op; another one under the code is not
        self.assertIs(c.register_kind(c.KINDS[c.DIRECT]), c.KINDS[c.DIRECT])
        other = c.RuleKind(c.DIRECT, c.KINDS[c.DIVIDEND].lines, c.RISK_DIVIDEND)
        with self.assertRaises(CommissionError) as caught:
            c.register_kind(other)
        self.assertEqual(caught.exception.code, "kind_registered")
        self.assertEqual(c.KINDS[c.DIRECT].risk_tag, c.RISK_REFERRAL)

    def test_a_registered_kind_is_computed_and_guarded(self):
        """Every upline level up to ``levels`` gets the rule's value."""

        def lines(rule, order, ctx):
            value = c.floor(c.rule_value(rule, order))
            return [
                Line(rule.rule_id, rule.kind, up.member_id, value, level)
                for level, up in enumerate(ctx["upline"][: rule.levels], 1)
            ]

        def check(rule):
            if rule.amount is None:
                raise CommissionError("flat_only", rule=rule.rule_id)

        self._register(
            c.RuleKind(
                "test_flat_upline",
                lines,
                c.RISK_TEAM,
                frozenset({c.UPLINE}),
                walks_levels=True,
                check=check,
            )
        )
        plan = [
            Rule(1, c.DIRECT, rate=Fraction(1, 10)),
            Rule(2, "test_flat_upline", amount=700, levels=2),
        ]
        self.assertEqual(c.check_plan(plan), 2)
        self.assertEqual(c.plan_inputs(plan), {c.UPLINE})
        self.assertEqual(
            c.compute(
                plan, Order(amount=100_000), [Upline("A"), Upline("B"), Upline("C")]
            ),
            [
                Line(1, c.DIRECT, "A", 10_000, 1),
                Line(2, "test_flat_upline", "A", 700, 1),
                Line(2, "test_flat_upline", "B", 700, 2),
            ],
        )
        for rules, code in (
            ([Rule(2, "test_flat_upline", amount=700, levels=3)], "depth"),
            ([Rule(2, "test_flat_upline", amount=700, levels=0)], "bad_levels"),
            ([Rule(2, "test_flat_upline", amount=-1, levels=1)], "negative"),
            (
                [Rule(2, "test_flat_upline", rate=Fraction(1, 10), levels=1)],
                "flat_only",
            ),
        ):
            with self.assertRaises(CommissionError) as caught:
                c.check_plan(rules)
            self.assertEqual(caught.exception.code, code)


@tagged("post_install", "-at_install")
class TestCommissionProperties(BaseCase):
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_plans, st.integers(0, 10_000_000), _uplines, _regions)
    def test_bounds(self, plan, amount, upline, regions):
        c.check_plan(plan, acknowledged=True)
        lines = c.compute(plan, Order(amount=amount), upline, regions=regions)
        self.assertTrue(all(line.amount > 0 for line in lines))
        ranks, region_rule = plan[2].rank_amounts, plan[4].region_amounts
        diff = sum(li.amount for li in lines if li.kind == c.RANK_DIFFERENTIAL)
        self.assertLessEqual(diff, max(ranks.values()))
        regional = sum(li.amount for li in lines if li.kind == c.REGIONAL)
        self.assertLessEqual(regional, max(region_rule.values()))
        # nothing is paid beyond the plan's depth, and only to the upline given
        for line in lines:
            if line.kind in (c.DIRECT, c.INDIRECT, c.RANK_DIFFERENTIAL, c.PEER):
                self.assertLessEqual(line.level, 3)
                self.assertEqual(upline[line.level - 1].member_id, line.member_id)
        # peer pay never exceeds its rate of the direct and indirect pay
        peer = sum(li.amount for li in lines if li.kind == c.PEER)
        tree = sum(li.amount for li in lines if li.kind in (c.DIRECT, c.INDIRECT))
        self.assertLessEqual(peer, plan[3].rate * tree)

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.integers(1, 1_000_000), min_size=1, max_size=6),
        st.lists(st.fractions(0, 1), min_size=1, max_size=4),
    )
    def test_refunds_never_reverse_more_than_paid(self, amounts, cuts):
        lines = [Line(i, c.DIRECT, i, amount) for i, amount in enumerate(amounts)]
        already, reversed_ = Fraction(0), dict.fromkeys(range(len(amounts)), 0)
        for cut in cuts:
            fraction = min(cut, 1 - already)
            for line in c.reverse(lines, fraction, already):
                self.assertLess(line.amount, 0)
                reversed_[line.rule_id] += line.amount
            already += fraction
        for index, amount in enumerate(amounts):
            self.assertGreaterEqual(amount + reversed_[index], 0)
            # whatever the steps, the reversal is the same as one refund
            self.assertEqual(
                amount + reversed_[index], int(amount * (1 - already) // 1)
            )

    @settings(max_examples=300, deadline=None)
    @given(
        st.integers(0, 10_000_000),
        st.lists(st.integers(0, 100), min_size=1, max_size=9),
        st.lists(
            st.dictionaries(st.integers(1, 50), st.integers(0, 10**6)), max_size=9
        ),
    )
    def test_dividend_payouts_plus_kept_is_the_pool(self, amount, weights, members):
        total = sum(weights) or 1
        shares = {
            level + 1: Fraction(w, max(total, 100)) for level, w in enumerate(weights)
        }
        by_rank = {level + 1: m for level, m in enumerate(members)}
        payouts, kept = c.distribute_dividend(amount, shares, by_rank)
        self.assertGreaterEqual(kept, 0)
        self.assertTrue(all(value >= 0 for value in payouts.values()))
        self.assertEqual(sum(payouts.values()) + kept, amount)
