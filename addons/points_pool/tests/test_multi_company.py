"""Multi-company consistency (issue 12, item 5).

Every points model checks its companies (``_check_company_auto``): a record of
company A cannot point at a record of company B (Odoo raises "Incompatible
companies on records"), and the same link within company A works.

Fields whose company is the record's own company (``company_id`` is related
through them: a member's pool, a node's member, a rule's plan...) cannot be
inconsistent and are not checked.
"""

from contextlib import closing, contextmanager

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_commission import CommissionCommon

INCOMPATIBLE = "Incompatible companies on records"


@tagged("post_install", "-at_install")
class TestMultiCompany(CommissionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b_data = cls.setup_other_company(name="PP multi-company B")
        cls.company_b = cls.company_b_data["company"]
        # records of both companies are made as superuser: the company check is
        # not a record rule and holds for the superuser too
        cls.su = cls.env(su=True)
        Pool = cls.su["points.pool"]
        cls.pool_a = cls.pool.sudo()
        cls.pool_b = Pool._get_company_pool(cls.company_b)
        partner_a, partner_a2, partner_b, partner_b2 = cls.su["res.partner"].create(
            [{"name": name} for name in ("MC A", "MC A2", "MC B", "MC B2")]
        )
        Member = cls.su["points.member"]
        cls.member_a, cls.member_a2 = Member._get_or_create(
            cls.pool_a, partner_a | partner_a2
        )
        cls.member_b, cls.member_b2 = Member._get_or_create(
            cls.pool_b, partner_b | partner_b2
        )
        cls.rank_a = cls.rank_member.sudo()
        cls.rank_b = cls.su["points.rank"].create(
            {"name": "B member", "level": 1, "company_id": cls.company_b.id}
        )
        Region = cls.su["points.region"]
        cls.region_a = Region.create(
            {
                "name": "A province",
                "level": "province",
                "state_id": cls.shanghai.id,
                "company_id": cls.company_a.id,
            }
        )
        cls.region_b = Region.create(
            {
                "name": "B province",
                "level": "province",
                "state_id": cls.shanghai.id,
                "company_id": cls.company_b.id,
            }
        )
        cls.dividend_pool_a, cls.dividend_pool_b = cls.su[
            "points.dividend.pool"
        ].create(
            [
                {"name": "A dividend", "company_id": cls.company_a.id},
                {"name": "B dividend", "company_id": cls.company_b.id},
            ]
        )
        Lot = cls.su["points.lot"]
        cls.lot_a = Lot.create({"pool_id": cls.pool_a.id, "member_id": cls.member_a.id})
        cls.lot_b = Lot.create({"pool_id": cls.pool_b.id, "member_id": cls.member_b.id})
        Move = cls.su["points.pool.move"]
        cls.move_a, cls.move_b = Move.create(
            [
                {
                    "pool_id": pool.id,
                    "company_id": pool.company_id.id,
                    "kind": "pending",
                    "member_id": member.id,
                }
                for pool, member in (
                    (cls.pool_a, cls.member_a),
                    (cls.pool_b, cls.member_b),
                )
            ]
        )
        su_b = cls.su(
            context=dict(cls.su.context, allowed_company_ids=cls.company_b.ids)
        )
        cls.entry_b = su_b["account.move"].create(
            {
                "move_type": "entry",
                "company_id": cls.company_b.id,
                "journal_id": cls.company_b_data["default_journal_misc"].id,
            }
        )
        cls.product_b = su_b["product.product"].create(
            {
                "name": "B package",
                "company_id": cls.company_b.id,
                "taxes_id": [Command.clear()],
                "supplier_taxes_id": [Command.clear()],
            }
        )

    def assertIncompatible(self):
        return self.assertRefused(UserError, INCOMPATIBLE)

    @contextmanager
    def rolledBack(self):
        """Whatever the block writes is undone (balances the pool's check sees)."""
        with closing(self.env.cr.savepoint()):
            yield
        self.env.invalidate_all()

    # ------------------------------------------------------------------
    # pool, members, lots, ledger
    # ------------------------------------------------------------------
    def test_lot(self):
        Lot = self.su["points.lot"]
        for vals in (
            {"member_id": self.member_b.id},
            {"member_id": self.member_a.id, "invoice_id": self.entry_b.id},
        ):
            with self.assertIncompatible():
                Lot.create({"pool_id": self.pool_a.id, **vals})
        point_b = self._service_point(self.company_b, self.member_b)
        with self.assertIncompatible():
            self.lot_a.write({"service_point_id": point_b.id})
        lot = Lot.create({"pool_id": self.pool_a.id, "member_id": self.member_a2.id})
        self.assertEqual(lot.company_id, self.company_a)
        lot.write({"service_point_id": self._service_point(self.company_a).id})

    def test_ledger_line(self):
        Move = self.su["points.pool.move"]
        base = {
            "pool_id": self.pool_a.id,
            "company_id": self.company_a.id,
            "kind": "pending",
        }
        for vals in (
            {"pool_id": self.pool_b.id},
            {"member_id": self.member_b.id},
            {"lot_id": self.lot_b.id},
        ):
            with self.assertIncompatible():
                Move.create({**base, **vals})
        with self.assertIncompatible():
            self.move_a.write({"account_move_id": self.entry_b.id})
        line = Move.create(
            {**base, "member_id": self.member_a.id, "lot_id": self.lot_a.id}
        )
        self.assertEqual(line.company_id, self.company_a)

    def test_member_rank(self):
        with self.assertIncompatible():
            self.member_a.rank_id = self.rank_b
        self.member_a.rank_id = self.rank_a
        self.assertEqual(self.member_a.referral_node_id.rank_id, self.rank_a)

    def test_rank_package_products(self):
        with self.assertIncompatible():
            self.rank_a.package_product_ids = [Command.link(self.product_b.id)]
        self.rank_a.package_product_ids = [Command.link(self.product.id)]

    def test_withdrawal(self):
        with self.rolledBack():
            (self.member_a | self.member_b).write({"wallet_balance": 100.0})
            Withdrawal = self.su["points.withdrawal"]
            withdrawal = Withdrawal.create(
                {"member_id": self.member_a.id, "amount": 10}
            )
            for name in ("ledger_line_id", "release_line_id"):
                with self.assertIncompatible():
                    withdrawal.write({name: self.move_b.id})
            withdrawal.write({"ledger_line_id": self.move_a.id})
            # the request of a member of company B is company B's
            other = Withdrawal.create({"member_id": self.member_b.id, "amount": 10})
            self.assertEqual(other.company_id, self.company_b)

    # ------------------------------------------------------------------
    # referral tree
    # ------------------------------------------------------------------
    def test_referral_node(self):
        node_a = self.member_a.referral_node_id.sudo()
        for vals in (
            {"parent_id": self.member_b.referral_node_id.id},
            {"rank_id": self.rank_b.id},
        ):
            with self.assertIncompatible():
                node_a.write(vals)
        node_a.write({"parent_id": self.member_a2.referral_node_id.id})
        self.assertEqual(node_a.parent_id.member_id, self.member_a2)

    def test_referral_log(self):
        Log = self.su["points.referral.log"]
        base = {
            "node_id": self.member_a.referral_node_id.id,
            "kind": "reassign",
            "source": "manager",
        }
        node_b = self.member_b.referral_node_id
        for vals in (
            {"old_parent_id": node_b.id},
            {"new_parent_id": node_b.id},
            {"kind": "rank", "old_rank_id": self.rank_b.id},
            {"kind": "rank", "new_rank_id": self.rank_b.id},
        ):
            with self.assertIncompatible():
                Log.create({**base, **vals})
        log = Log.create({**base, "new_parent_id": self.member_a2.referral_node_id.id})
        self.assertEqual(log.company_id, self.company_a)

    # ------------------------------------------------------------------
    # regions and service points
    # ------------------------------------------------------------------
    def _service_point(self, company, member=None, **vals):
        return self.su["points.service.point"].create(
            {
                "name": f"Point {company.name}",
                "company_id": company.id,
                "member_id": (member or self.member_a).id,
                **vals,
            }
        )

    def test_region_and_service_point(self):
        Region = self.su["points.region"]
        with self.assertIncompatible():
            Region.create(
                {
                    "name": "A city",
                    "level": "city",
                    "city_name": "A city",
                    "company_id": self.company_a.id,
                    "parent_id": self.region_b.id,
                }
            )
        with self.assertIncompatible():
            self.region_a.agent_id = self.member_b
        self.region_a.agent_id = self.member_a
        with self.assertIncompatible():
            self._service_point(self.company_a, self.member_b)
        with self.assertIncompatible():
            self._service_point(self.company_a, region_id=self.region_b.id)
        point = self._service_point(self.company_a, region_id=self.region_a.id)
        self.assertEqual(point.region_id, self.region_a)
        order = self._order(self.alice)
        with self.assertIncompatible():
            order.points_service_point_id = self._service_point(
                self.company_b, self.member_b
            )
        order.points_service_point_id = point

    # ------------------------------------------------------------------
    # commissions and dividends
    # ------------------------------------------------------------------
    def test_commission_rule_and_tier(self):
        plan = self.su["points.commission.plan"].create(
            {"name": "MC plan", "company_id": self.company_a.id}
        )
        Rule = self.su["points.commission.rule"]
        for vals in (
            {"kind": "dividend", "dividend_pool_id": self.dividend_pool_b.id},
            {"base": "unit", "value_type": "fixed", "product_id": self.product_b.id},
        ):
            with self.assertIncompatible():
                Rule.create({"plan_id": plan.id, "amount": 1.0, **vals})
        tier_b = Command.create({"rank_id": self.rank_b.id, "rate": 1.0})
        differential = {"plan_id": plan.id, "kind": "rank_differential", "levels": 1}
        with self.assertIncompatible():
            Rule.create({**differential, "tier_ids": [tier_b]})
        rule = Rule.create(
            {
                **differential,
                "tier_ids": [Command.create({"rank_id": self.rank_a.id, "rate": 1.0})],
            }
        )
        Tier = self.su["points.commission.tier"]
        with self.assertIncompatible():
            Tier.create({"rule_id": rule.id, "rank_id": self.rank_b.id, "rate": 1.0})
        partner_rank = self.rank_partner.id
        tier = Tier.create({"rule_id": rule.id, "rank_id": partner_rank, "rate": 1.0})
        self.assertEqual(tier.company_id, self.company_a)
        with self.assertIncompatible():
            tier.rank_id = self.rank_b
        dividend = Rule.create(
            {
                "plan_id": plan.id,
                "kind": "dividend",
                "rate": 1.0,
                "dividend_pool_id": self.dividend_pool_a.id,
            }
        )
        self.assertEqual(dividend.company_id, self.company_a)

    def test_commission_line(self):
        """Unjournalized lines would unbalance the pool's check: undone."""
        with self.rolledBack():
            Line = self.su["points.commission.line"]
            base = {
                "company_id": self.company_a.id,
                "pool_id": self.pool_a.id,
                "kind": "direct",
                "member_id": self.member_a.id,
                "lot_id": self.lot_a.id,
            }
            plan_b = self.su["points.commission.plan"].create(
                {"name": "B plan", "company_id": self.company_b.id}
            )
            distribution_b = self.su["points.dividend.distribution"].create(
                {"dividend_pool_id": self.dividend_pool_b.id}
            )
            for vals in (
                {"pool_id": self.pool_b.id},
                {"plan_id": plan_b.id},
                {"member_id": self.member_b.id},
                {"buyer_id": self.member_b.id},
                {"lot_id": self.lot_b.id},
                {"dividend_pool_id": self.dividend_pool_b.id},
                {"distribution_id": distribution_b.id},
                {"wallet_line_id": self.move_b.id},
                {"accrual_move_id": self.entry_b.id},
            ):
                with self.assertIncompatible():
                    Line.create({**base, **vals})
            line = Line.create({**base, "buyer_id": self.member_a2.id})
            self.assertEqual(line.company_id, self.company_a)
            with self.assertIncompatible():
                line.write({"wallet_line_id": self.move_b.id})
            line_b = Line.create(
                {
                    "company_id": self.company_b.id,
                    "pool_id": self.pool_b.id,
                    "kind": "direct",
                    "member_id": self.member_b.id,
                    "lot_id": self.lot_b.id,
                }
            )
            with self.assertIncompatible():
                Line.create({**base, "origin_id": line_b.id})
            reverse = Line.create({**base, "origin_id": line.id})
            self.assertEqual(reverse.origin_id, line)
            reversal = self.su["points.commission.reversal"].create(
                {"key": "mc-reversal", "lot_id": self.lot_b.id}
            )
            self.assertEqual(reversal.company_id, self.company_b)
            with self.assertIncompatible():
                Line.create({**base, "reversal_id": reversal.id})

    def test_dividend_share(self):
        Share = self.su["points.dividend.share"]
        with self.assertIncompatible():
            Share.create(
                {
                    "dividend_pool_id": self.dividend_pool_a.id,
                    "rank_id": self.rank_b.id,
                    "share": 10.0,
                }
            )
        share = Share.create(
            {
                "dividend_pool_id": self.dividend_pool_a.id,
                "rank_id": self.rank_a.id,
                "share": 10.0,
            }
        )
        self.assertEqual(share.company_id, self.company_a)
        with self.assertIncompatible():
            share.rank_id = self.rank_b
