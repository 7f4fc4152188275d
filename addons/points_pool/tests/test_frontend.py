from odoo.tests import HttpCase, tagged

from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestPointsPoolFrontend(PointsPoolCommon, HttpCase):
    def test_backoffice_sell_tour(self):
        self._buy(self.alice)
        self.start_tour("/odoo", "points_pool_backoffice", login=self.env.user.login)
        member = self._member(self.alice)
        self.assertEqual(member.points_held, 200.0)
        self.assertEqual(member.wallet_balance, 11.42)
        sell = member.ledger_ids.filtered(lambda line: line.kind == "sell")
        self.assertEqual(sell.wallet, 11.42)
        self.assertEqual(sell.account_move_id.state, "posted")
