"""Commission plans, lifecycle, accounting and the SPEC 6 guard (issue 4).

Every test ends with the pool's reconciliation (``PointsPoolCommon.tearDown``),
which includes the commission ledger against the GL.
"""

from contextlib import contextmanager
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..core import commission as core
from .common import PointsPoolCommon


class CommissionCommon(PointsPoolCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Plan = cls.env["points.commission.plan"]
        cls.Line = cls.env["points.commission.line"]
        Rank = cls.env["points.rank"]
        cls.rank_member, cls.rank_partner, cls.rank_cofounder, cls.rank_director = (
            Rank.create(
                [
                    {"name": name, "level": level}
                    for level, name in enumerate(("会员", "合伙人", "联创", "董事"), 1)
                ]
            )
        )
        cls.pool.commission_hold_days = 7
        cls.shanghai = cls.env.ref("base.state_cn_SH")

    # helpers ----------------------------------------------------------
    @contextmanager
    def assertRefused(self, exception, regex):
        """The error is raised and the savepoint undoes whatever was written."""
        with self.assertRaisesRegex(exception, regex), self.env.cr.savepoint():
            yield

    def _partners(self, *names):
        return self.env["res.partner"].create([{"name": name} for name in names])

    def _members(self, partners):
        return self.env["points.member"]._get_or_create(self.pool, partners)

    def _chain(self, *partners):
        """Bind each partner under the previous one: first is the top."""
        for referrer, partner in zip(partners, partners[1:], strict=False):
            self._member(partner).action_bind_referrer(
                self._member(referrer).referral_code
            )

    def _rank(self, partner, rank):
        self._member(partner).referral_node_id._set_rank(rank, "manager")

    def _plan(self, rules, acknowledged=False, activate=True, name="Plan"):
        plan = self.Plan.create({"name": name})
        if acknowledged:
            plan.action_acknowledge_depth()
        plan.write({"rule_ids": [Command.create(rule) for rule in rules]})
        if activate:
            plan.action_activate()
        return plan

    def _lines(self, order):
        return self.Line.search([("sale_order_id", "=", order.id)])

    def _by_partner(self, lines, kind=None):
        result = {}
        for line in lines:
            if kind and line.kind != kind:
                continue
            key = (line.kind, line.partner_id.name or "pool")
            result[key] = round(result.get(key, 0.0) + line.amount, 2)
        return result

    def _entry_credits(self, move, account):
        """{partner name: credit} of ``move`` on ``account`` (debits negative)."""
        result = {}
        for aml in move.line_ids.filtered(lambda aml: aml.account_id == account):
            key = aml.partner_id.name or "-"
            result[key] = round(result.get(key, 0.0) - aml.balance, 2)
        return result

    def _post(self):
        self.Line._post_unposted(self.pool)

    def _credit_due(self, days=8):
        return self.Line._make_available(
            self.pool, now=fields.Datetime.now() + timedelta(days=days)
        )


@tagged("post_install", "-at_install")
class TestCommissionSeeds(CommissionCommon):
    """The seeds' worked split of a 1000 package, as configuration only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        names = ("Top", "Director", "Partner2", "Partner1", "Buyer", "Cofounder")
        (
            cls.top,
            cls.director,
            cls.partner2,
            cls.partner1,
            cls.buyer,
            cls.cofounder,
        ) = cls.env["res.partner"].create([{"name": n} for n in names])
        cls.agents = cls.env["res.partner"].create(
            [{"name": n} for n in ("District", "City", "Province", "Region", "Station")]
        )
        cls.env["points.member"]._get_or_create(
            cls.pool,
            cls.top
            | cls.director
            | cls.partner2
            | cls.partner1
            | cls.buyer
            | cls.cofounder
            | cls.agents,
        )
        cls.buyer.write({"state_id": cls.shanghai.id, "city": "上海", "zip": "200001"})

    def setUp(self):
        super().setUp()
        self._chain(self.top, self.director, self.partner2, self.partner1, self.buyer)
        self._chain(self.director, self.cofounder)
        self._rank(self.partner1, self.rank_partner)
        self._rank(self.partner2, self.rank_partner)
        self._rank(self.director, self.rank_director)
        self._rank(self.cofounder, self.rank_cofounder)
        Region = self.env["points.region"]
        m = {p.name: self._member(p) for p in self.agents}
        east = Region.create(
            {"name": "华东", "level": "region", "agent_id": m["Region"].id}
        )
        province = Region.create(
            {
                "name": "上海",
                "level": "province",
                "parent_id": east.id,
                "state_id": self.shanghai.id,
                "agent_id": m["Province"].id,
            }
        )
        city = Region.create(
            {
                "name": "上海市",
                "level": "city",
                "parent_id": province.id,
                "city_name": " 上海 ",
                "agent_id": m["City"].id,
            }
        )
        Region.create(
            {
                "name": "黄浦区",
                "level": "district",
                "parent_id": city.id,
                "zip_prefixes": "20000, 200010",
                "agent_id": m["District"].id,
            }
        )
        self.station = self.env["points.service.point"].create(
            {"name": "Station", "member_id": m["Station"].id}
        )
        self.dividend = self.env["points.dividend.pool"].create(
            {
                "name": "分红池",
                "share_ids": [
                    Command.create({"rank_id": self.rank_director.id, "share": 30}),
                    Command.create({"rank_id": self.rank_cofounder.id, "share": 30}),
                    Command.create({"rank_id": self.rank_partner.id, "share": 40}),
                ],
            }
        )
        self.plan = self._plan(self._seed_rules(), acknowledged=True, name="种子方案")

    def _seed_rules(self):
        return [
            {"name": "直推", "kind": "direct", "rate": 10.0},
            {
                "name": "级差",
                "kind": "rank_differential",
                "value_type": "fixed",
                "levels": 3,
                "tier_ids": [
                    Command.create({"rank_id": self.rank_partner.id, "amount": 10}),
                    Command.create({"rank_id": self.rank_cofounder.id, "amount": 20}),
                    Command.create({"rank_id": self.rank_director.id, "amount": 30}),
                ],
            },
            {"name": "平级", "kind": "peer", "rate": 10.0, "levels": 2},
            {
                "name": "区域",
                "kind": "regional",
                "value_type": "fixed",
                "tier_ids": [
                    Command.create({"region_level": lvl, "amount": amount})
                    for lvl, amount in (
                        ("district", 3),
                        ("city", 5),
                        ("province", 8),
                        ("region", 10),
                    )
                ],
            },
            {
                "name": "服务点",
                "kind": "service_point",
                "value_type": "fixed",
                "amount": 20,
            },
            {
                "name": "分红池",
                "kind": "dividend",
                "value_type": "fixed",
                "amount": 40,
                "dividend_pool_id": self.dividend.id,
            },
        ]

    def test_seeds_split_on_the_journal_entries(self):
        self.assertEqual(self.plan.depth, 3)
        order = self._order(self.buyer)
        order.points_service_point_id = self.station
        order.action_points_verify_pickup()
        self._pay(self._invoice(order))
        lines = self._lines(order)
        self.assertEqual(
            self._by_partner(lines),
            {
                ("direct", "Partner1"): 100.0,
                ("rank_differential", "Partner1"): 10.0,
                ("rank_differential", "Director"): 20.0,
                ("peer", "Partner2"): 10.0,
                ("regional", "District"): 3.0,
                ("regional", "City"): 2.0,
                ("regional", "Province"): 3.0,
                ("regional", "Region"): 2.0,
                ("service_point", "Station"): 20.0,
                ("dividend", "pool"): 40.0,
            },
        )
        # accrual: one entry in the Commissions journal
        self._post()
        move = lines.accrual_move_id
        self.assertEqual(len(move), 1)
        self.assertEqual(move.journal_id, self.pool.commission_journal_id)
        self.assertEqual(move.state, "posted")
        self.assertEqual(
            self._entry_credits(move, self.pool.commission_payable_account_id),
            {
                "Partner1": 110.0,
                "Director": 20.0,
                "Partner2": 10.0,
                "District": 3.0,
                "City": 2.0,
                "Province": 3.0,
                "Region": 2.0,
                "Station": 20.0,
            },
        )
        self.assertEqual(
            self._entry_credits(move, self.pool.dividend_account_id), {"-": 40.0}
        )
        self.assertEqual(
            self._entry_credits(move, self.pool.commission_expense_account_id),
            {"-": -210.0},
        )
        # monthly distribution: 董事 30% / 联创 30% / 合伙人 40% (two members)
        distribution = self.dividend._distribute()
        self.assertEqual(distribution.amount, 40.0)
        self.assertEqual(distribution.kept, 0.0)
        self.assertEqual(
            self._by_partner(distribution.line_ids),
            {
                ("dividend", "Director"): 12.0,
                ("dividend", "Cofounder"): 12.0,
                ("dividend", "Partner1"): 8.0,
                ("dividend", "Partner2"): 8.0,
            },
        )
        dist_move = distribution.line_ids.accrual_move_id
        self.assertEqual(
            self._entry_credits(dist_move, self.pool.dividend_account_id), {"-": -40.0}
        )
        self.assertEqual(self.dividend.balance, 0.0)
        # hold period over: credited to the wallets in one entry
        self._credit_due()
        partner1 = self._member(self.partner1)
        self.assertEqual(partner1.wallet_balance, 118.0)
        self.assertEqual(partner1.commission_total, 118.0)
        wallet_move = (
            (lines | distribution.line_ids).filtered("member_id").available_move_id
        )
        self.assertEqual(len(wallet_move), 1)
        self.assertEqual(
            self._entry_credits(wallet_move, self.pool.wallet_account_id)["Partner1"],
            118.0,
        )
        self.assertEqual(self._gl(self.pool.commission_payable_account_id), 0.0)
        self.assertEqual(
            set(lines.filtered("member_id").mapped("state")), {"available"}
        )

    def test_pickup_verified_after_payment_pays_the_service_point_once(self):
        order = self._order(self.buyer)
        order.points_service_point_id = self.station
        self._pay(self._invoice(order))
        self.assertNotIn(
            ("service_point", "Station"), self._by_partner(self._lines(order))
        )
        order.action_points_verify_pickup()
        self.assertEqual(
            self._by_partner(self._lines(order), "service_point"),
            {("service_point", "Station"): 20.0},
        )
        with self.assertRaisesRegex(UserError, "already verified"):
            order.action_points_verify_pickup()
        self.assertEqual(
            len(self._lines(order).filtered(lambda line: line.kind == "service_point")),
            1,
        )

    def test_half_refund_reverses_half_once_even_after_credit(self):
        order = self._order(self.buyer)
        invoice = self._invoice(order)
        self._pay(invoice)
        self._credit_due()
        partner1 = self._member(self.partner1)
        self.assertEqual(partner1.wallet_balance, 110.0)
        # the member withdraws everything: the refund takes the wallet negative
        partner1.action_request_withdrawal(110.0)
        partner1.withdrawal_ids.action_approve()
        self.assertEqual(partner1.wallet_balance, 0.0)
        refund = self._refund(invoice, amount=500.0)
        reversals = self._lines(order).filtered("origin_id")
        self.assertEqual(
            self._by_partner(reversals),
            {
                ("direct", "Partner1"): -50.0,
                ("rank_differential", "Partner1"): -5.0,
                ("rank_differential", "Director"): -10.0,
                ("peer", "Partner2"): -5.0,
                ("regional", "District"): -1.5,
                ("regional", "City"): -1.0,
                ("regional", "Province"): -1.5,
                ("regional", "Region"): -1.0,
                ("dividend", "pool"): -20.0,
            },
        )
        partner1.invalidate_recordset()
        self.assertEqual(partner1.wallet_balance, -55.0)
        # the reversal of credited lines: Dr wallet payable / Cr commission expense
        move = reversals.filtered(
            lambda line: line.partner_id == self.partner1
        ).available_move_id
        self.assertEqual(
            self._entry_credits(move, self.pool.wallet_account_id)["Partner1"], -55.0
        )
        # the same credit note again, and the reversal call again: nothing changes
        count = len(self._lines(order))
        refund._points_pool_refund()
        self.Line._reverse_lots(order.points_lot_ids, 0.5, f"refund:{refund.id}")
        self.assertEqual(len(self._lines(order)), count)
        partner1.invalidate_recordset()
        self.assertEqual(partner1.wallet_balance, -55.0)
        # the other half: everything is reversed exactly, nothing more
        self._refund(invoice, amount=500.0)
        self.assertEqual(
            sum(
                self._lines(order)
                .filtered(lambda line: line.kind == "regional")
                .mapped("amount")
            ),
            0.0,
        )
        self.assertEqual(sum(self._lines(order).mapped("amount")), 0.0)

    def test_refund_before_the_hold_ends_reverses_the_accrual(self):
        order = self._order(self.buyer)
        invoice = self._invoice(order)
        self._pay(invoice)
        self._refund(invoice)
        self._credit_due()
        partner1 = self._member(self.partner1)
        self.assertEqual(partner1.wallet_balance, 0.0)
        self.assertEqual(sum(self._lines(order).mapped("amount")), 0.0)
        self.assertEqual(self._gl(self.pool.commission_expense_account_id), 0.0)

    def test_payment_undone_before_settlement_reverses_everything(self):
        self.pool.return_window_days = 7
        order = self._order(self.buyer)
        invoice = self._invoice(order)
        payment = self._pay(invoice)
        lot = order.points_lot_ids
        self.assertEqual(sum(self._lines(order).mapped("amount")), 210.0 - 20.0)
        payment.action_draft()
        self.pool._settle_due(now=lot.settle_date)
        self.assertEqual(lot.state, "cancelled")
        self.assertEqual(sum(self._lines(order).mapped("amount")), 0.0)
        self._credit_due()
        self.assertEqual(self._member(self.partner1).wallet_balance, 0.0)
        # settling again changes nothing (one reversal per lot and key)
        count = len(self._lines(order))
        self.Line._reverse_lots(lot, 1, "unpaid")
        self.assertEqual(len(self._lines(order)), count)

    def test_depth_three_needs_the_acknowledgement_and_four_never(self):
        with self.assertRefused(ValidationError, "3 only after a manager"):
            self._plan(self._seed_rules(), activate=False)
        plan = self.Plan.create({"name": "Deep"})
        with self.assertRaisesRegex(UserError, "Acknowledge depth 3"):
            plan.depth_acknowledged = True
        plan.action_acknowledge_depth()
        self.assertIn("acknowledged", plan.message_ids[0].body)
        self.assertEqual(plan.acknowledged_by_id, self.env.user)
        plan.write({"rule_ids": [Command.create(r) for r in self._seed_rules()]})
        self.assertEqual(plan.depth, 3)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("points_pool.points_commission_plan_report", plan.ids)[0]
            .decode()
        )
        self.assertIn("acknowledged by", html)
        self.assertIn("链动2+1", html)
        with self.assertRefused(ValidationError, "pays 4 levels"):
            plan.rule_ids.filtered(lambda r: r.kind == "peer").levels = 4
        # un-acknowledging a depth-3 plan is refused too
        with self.assertRefused(ValidationError, "3 only after a manager"):
            plan.depth_acknowledged = False
        # a user who is not a manager cannot acknowledge
        user = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk_ack",
                "groups_id": [
                    Command.set([self.env.ref("points_pool.points_pool_group_user").id])
                ],
            }
        )
        with self.assertRaises(UserError):
            self.Plan.with_user(user).browse(plan.id).action_acknowledge_depth()


@tagged("post_install", "-at_install")
class TestCommissionLocalLife(CommissionCommon):
    """The local-life case: 0.3% / 0.2% of every order at any store, 0.5% of a
    store's turnover to its recruiter."""

    def test_local_life_split(self):
        top, mid, customer, recruiter, owner = self._partners(
            "Top", "Mid", "Customer", "Recruiter", "Owner"
        )
        self._members(top | mid | customer | recruiter | owner)
        self._chain(top, mid, customer)
        stores = self.env["res.partner"].create(
            [
                {
                    "name": name,
                    "is_points_store": True,
                    "points_store_owner_id": owner.id,
                    "points_store_recruiter_id": self._member(recruiter).id,
                }
                for name in ("Noodles", "Tea")
            ]
        )
        self._plan(
            [
                {"kind": "direct", "rate": 0.3},
                {"kind": "indirect", "rate": 0.2},
                {"kind": "merchant", "rate": 0.5},
            ]
        )
        totals = {}
        for store, amount in zip(stores, (10000.0, 333.0), strict=True):
            order = self._order(customer, amount)
            order.points_store_id = store
            self._pay(self._invoice(order))
            totals[store.name] = self._by_partner(self._lines(order))
        self.assertEqual(
            totals["Noodles"],
            {
                ("direct", "Mid"): 30.0,
                ("indirect", "Top"): 20.0,
                ("merchant", "Recruiter"): 50.0,
            },
        )
        # 0.999 / 0.666 / 1.665: floored to the cent, the dust is never paid
        self.assertEqual(
            totals["Tea"],
            {
                ("direct", "Mid"): 0.99,
                ("indirect", "Top"): 0.66,
                ("merchant", "Recruiter"): 1.66,
            },
        )
        with self.assertRefused(ValidationError, "is not a points store"):
            order.points_store_id = customer


@tagged("post_install", "-at_install")
class TestCommissionGuards(CommissionCommon):
    """Bad input gets a clear error and changes nothing."""

    def test_negative_rates_and_rates_above_the_base(self):
        before = self.Plan.search_count([])
        with self.assertRefused(ValidationError, "cannot be negative"):
            self._plan([{"kind": "direct", "rate": -1.0}], activate=False)
        with self.assertRefused(ValidationError, "more than the base itself"):
            self._plan(
                [{"kind": "direct", "rate": 60.0}, {"kind": "indirect", "rate": 50.0}],
                activate=False,
            )
        with self.assertRefused(ValidationError, "above 100%"):
            self._plan([{"kind": "direct", "rate": 120.0}], activate=False)
        self.assertEqual(self.Plan.search_count([]), before)

    def test_overlapping_regions_are_refused(self):
        Region = self.env["points.region"]
        east = Region.create({"name": "East", "level": "region"})
        Region.create(
            {
                "name": "SH",
                "level": "province",
                "parent_id": east.id,
                "state_id": self.shanghai.id,
            }
        )
        with self.assertRefused(ValidationError, "overlaps"):
            Region.create(
                {
                    "name": "SH 2",
                    "level": "province",
                    "parent_id": east.id,
                    "state_id": self.shanghai.id,
                }
            )
        with self.assertRefused(ValidationError, "is part of a"):
            Region.create(
                {"name": "Bad", "level": "city", "parent_id": east.id, "city_name": "X"}
            )

    def test_active_plans_are_frozen_and_one_per_company(self):
        first = self._plan([{"kind": "direct", "rate": 5.0}])
        with self.assertRaisesRegex(UserError, "set it to draft first"):
            first.rule_ids.rate = 6.0
        second = self._plan([{"kind": "direct", "rate": 4.0}])
        self.assertEqual(first.state, "closed")
        self.assertEqual(second.state, "active")
        self.assertEqual(self.pool.commission_plan_id, second)
        self.assertTrue(
            all(
                f not in self.env["points.commission.rule"]._fields
                for f in ("recruit_count", "min_recruits")
            )
        )

    def test_every_kind_of_the_selection_is_registered(self):
        """Rules and lines share one kind selection, each a core.RuleKind."""
        rule_kinds = self.env["points.commission.rule"]._fields["kind"].selection
        line_kinds = self.env["points.commission.line"]._fields["kind"].selection
        self.assertEqual(rule_kinds, line_kinds)
        for code, _label in rule_kinds:
            self.assertIn(code, core.KINDS)
        # what the form shows comes from the definition
        rule = self.env["points.commission.rule"].new({"kind": "peer"})
        self.assertEqual(
            (rule.kind_rate_only, rule.kind_walks_levels, rule.kind_tiers),
            (True, True, False),
        )
        rule.kind = "regional"
        self.assertEqual(rule.kind_tiers, "region")
        rule.kind = "dividend"
        self.assertTrue(rule.kind_into_dividend_pool)


@tagged("post_install", "-at_install")
class TestCommissionAccess(CommissionCommon):
    """Portal users see their own lines; nobody writes the ledger; managers
    configure; another company sees nothing."""

    def test_access_rights_and_record_rules(self):
        referrer, other, customer = self._partners("Referrer", "Other", "Customer")
        self._members(referrer | other | customer)
        self._chain(referrer, customer)
        self._plan([{"kind": "direct", "rate": 10.0}])
        order, _invoice = self._buy(customer)
        self._buy(other)
        line = order.points_commission_line_ids
        self.assertEqual(line.amount, 100.0)
        portal = self._new_user(
            "commission_portal", "base.group_portal", partner_id=referrer.id
        )
        other_portal = self._new_user(
            "commission_portal_other", "base.group_portal", partner_id=other.id
        )
        Line = self.env["points.commission.line"]
        self.assertEqual(Line.with_user(portal).search([]), line)
        self.assertFalse(Line.with_user(other_portal).search([]))
        self.assertEqual(
            self._member(referrer).with_user(portal).get_position()["commissions"],
            100.0,
        )
        clerk = self._new_user("commission_clerk", "points_pool.points_pool_group_user")
        with self.assertRaises(AccessError):
            line.with_user(clerk).write({"state": "available"})
        with self.assertRaises(AccessError):
            Line.with_user(clerk).create({"kind": "direct", "amount": 1.0})
        with self.assertRaises(UserError):
            line.write({"amount": 1.0})  # not even the superuser edits the ledger
        draft = self.Plan.create({"name": "Draft"})
        with self.assertRaises(AccessError):
            draft.with_user(clerk).write({"name": "Mine"})
        with self.assertRaisesRegex(UserError, "Only a points pool manager"):
            draft.with_user(clerk).action_activate()
        # another company's user sees no line and no plan
        manager_b = self._other_company_manager("commission_manager_b")
        self.assertFalse(Line.with_user(manager_b).search([]))
        self.assertFalse(self.Plan.with_user(manager_b).search([]))


@tagged("post_install", "-at_install")
class TestCommissionFrozenShare(CommissionCommon):
    def test_frozen_share_until_directs_place_settled_orders(self):
        referrer, customer = self._partners("Referrer", "Customer")
        self._members(referrer | customer)
        self._chain(referrer, customer)
        self._plan([{"kind": "direct", "rate": 10.0}])
        self.pool.write({"freeze_share": 20.0, "freeze_direct_orders": 2})
        self._buy(customer)
        self._credit_due()
        member = self._member(referrer)
        self.assertEqual(member.wallet_balance, 100.0)
        member.action_request_withdrawal(100.0)
        withdrawal = member.withdrawal_ids
        withdrawal.action_approve()
        self.assertEqual(
            (withdrawal.cash_amount, withdrawal.frozen_amount, withdrawal.frozen_state),
            (80.0, 20.0, "frozen"),
        )
        self.assertEqual(withdrawal.payment_id.amount, 80.0)
        self.assertEqual(member.frozen_balance, 20.0)
        self.assertEqual(self._gl(self.pool.commission_frozen_account_id), 20.0)
        # one settled order of the directs: not yet
        self.pool._commission_jobs()
        self.assertEqual(withdrawal.frozen_state, "frozen")
        self._buy(customer)
        self.pool._commission_jobs()
        self.assertEqual(withdrawal.frozen_state, "released")
        member.invalidate_recordset()
        self.assertEqual(member.frozen_balance, 0.0)
        self.assertEqual(
            member.wallet_balance, 20.0
        )  # the second order's 100 is on hold
        self.assertEqual(self._gl(self.pool.commission_frozen_account_id), 0.0)


@tagged("post_install", "-at_install")
class TestCommissionStatement(CommissionCommon):
    def test_member_statement_in_english_and_chinese(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["points_pool"], ["zh_CN"])
        referrer, customer = self._partners("Referrer", "Customer")
        self._members(referrer | customer)
        self._chain(referrer, customer)
        self._plan([{"kind": "direct", "rate": 10.0}])
        self._buy(customer)
        member = self._member(referrer)
        Report = self.env["ir.actions.report"]
        html = Report._render_qweb_html(
            "points_pool.points_member_statement_report", member.ids
        )[0].decode()
        self.assertIn("Commission statement", html)
        self.assertIn("100.00", html)
        referrer.lang = "zh_CN"
        html = Report._render_qweb_html(
            "points_pool.points_member_statement_report", member.ids
        )[0].decode()
        self.assertIn("佣金对账单", html)
        # the PDF action renders this same HTML (in test mode Odoo returns the HTML;
        # wkhtmltopdf inside a test transaction would wait on its own assets)
        self.assertEqual(
            self.env.ref("points_pool.points_member_statement_report").report_type,
            "qweb-pdf",
        )
