from odoo.tests import HttpCase, tagged

from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestPointsPoolFrontend(PointsPoolCommon, HttpCase):
    def test_commission_plan_tour(self):
        """A manager activates a plan from its form; the next paid order pays it."""
        members = self.env["points.member"]._get_or_create(
            self.pool, self.alice | self.bob
        )
        bob = members.filtered(lambda m: m.partner_id == self.bob)
        alice = members - bob
        bob.action_bind_referrer(alice.referral_code)
        plan = self.env["points.commission.plan"].create(
            {
                "name": "Tour plan",
                "rule_ids": [
                    (0, 0, {"kind": "direct", "rate": 10.0}),
                    (0, 0, {"kind": "indirect", "rate": 5.0}),
                ],
            }
        )
        self.start_tour("/odoo", "points_pool_commission", login=self.env.user.login)
        self.assertEqual(plan.state, "active")
        self.assertEqual(self.pool.commission_plan_id, plan)
        order, _invoice = self._buy(self.bob)
        lines = order.points_commission_line_ids
        self.assertEqual(lines.mapped("amount"), [100.0])
        self.assertEqual(lines.partner_id, self.alice)

    def test_backoffice_sell_tour(self):
        self._buy(self.alice)
        self.start_tour("/odoo", "points_pool_backoffice", login=self.env.user.login)
        member = self._member(self.alice)
        self.assertEqual(member.points_held, 200.0)
        self.assertEqual(member.wallet_balance, 11.42)
        sell = member.ledger_ids.filtered(lambda line: line.kind == "sell")
        self.assertEqual(sell.wallet, 11.42)
        self.assertEqual(sell.account_move_id.state, "posted")

    def test_referral_backoffice_tour(self):
        members = self.env["points.member"]._get_or_create(
            self.pool, self.alice | self.bob | self.carol
        )
        code = {m.partner_id: m.referral_code for m in members}
        bob = members.filtered(lambda m: m.partner_id == self.bob)
        carol = members.filtered(lambda m: m.partner_id == self.carol)
        bob.action_bind_referrer(code[self.alice])
        carol.action_bind_referrer(code[self.bob])
        self.start_tour("/odoo", "points_pool_referral", login=self.env.user.login)
        self.assertEqual(
            carol.referral_node_id._get_upline().partner_id.mapped("name"),
            ["Bob", "Alice"],
        )
