import json

from odoo.tests import HttpCase, tagged

from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestPointsPoolApi(PointsPoolCommon, HttpCase):
    """The README's Python/RPC API, called over JSON-RPC as an integrator would."""

    def _rpc(self, model, method, *args):
        response = self._rpc_raw(model, method, *args)
        self.assertNotIn("error", response, response.get("error"))
        return response["result"]

    def _rpc_error(self, model, method, *args):
        """Call and expect an error; :return: its message."""
        response = self._rpc_raw(model, method, *args)
        self.assertIn("error", response, response.get("result"))
        return response["error"]["data"]["message"]

    def _rpc_raw(self, model, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [
                    self.env.cr.dbname,
                    self.env.uid,
                    self.env.user.login,
                    model,
                    method,
                    list(args),
                ],
            },
        }
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        ).json()
        return response

    def test_rpc_api(self):
        self._buy(self.alice)
        self._buy(self.bob)
        pool_id = self._rpc("points.pool", "get_company_pool")
        self.assertEqual(pool_id, self.pool.id)
        state = self._rpc("points.pool", "get_pool_state", [pool_id])
        self.assertEqual(state["price_display"], "1.6807")
        self.assertEqual(state["fund"], 600.0)
        self.assertEqual(state["supply"], 357.0)
        [member] = self._rpc(
            "points.member",
            "search_read",
            [["partner_id", "=", self.alice.id], ["pool_id", "=", pool_id]],
            ["id", "points_held", "wallet_balance"],
        )
        position = self._rpc("points.member", "get_position", [member["id"]])
        self.assertEqual(position["points"], 210.0)
        self.assertEqual(position["value"], round(210 * 600 / 357, 2))
        sold = self._rpc("points.member", "action_sell", [member["id"]], 10)
        self.assertEqual(sold["points"], 10.0)
        self.assertEqual(
            sold["payout"], 13.44
        )  # floor(0.8 * 10 * 600 / 357 * 100) / 100
        injected = self._rpc("points.pool", "action_inject", [pool_id], 100.0)
        self.assertEqual(injected["exits"], 0)
        request = self._rpc(
            "points.member", "action_request_withdrawal", [member["id"]], 10.0
        )
        self.assertEqual(request["state"], "requested")
        self.assertTrue(
            self._rpc("points.withdrawal", "action_approve", [request["withdrawal_id"]])
        )
        self.assertEqual(self._member(self.alice).wallet_balance, 3.44)
        self.assertPoolReconciles()

    def test_rpc_referral_binding_refuses_self_and_cycles(self):
        members = self.env["points.member"]._get_or_create(
            self.pool, self.alice | self.bob
        )
        alice, bob = (
            members.filtered(lambda m, p=p: m.partner_id == p)
            for p in (self.alice, self.bob)
        )
        info = self._rpc("points.member", "get_referral_info", [alice.id])
        self.assertEqual(info["code"], alice.referral_code)
        self.assertTrue(info["url"].endswith(f"/r/{alice.referral_code}"))
        message = self._rpc_error(
            "points.member", "action_bind_referrer", [alice.id], alice.referral_code
        )
        self.assertIn("cannot refer themselves", message)
        bound = self._rpc(
            "points.member", "action_bind_referrer", [bob.id], alice.referral_code
        )
        self.assertEqual(bound, {"referrer": "Alice", "bind_source": "code"})
        message = self._rpc_error(
            "points.member", "action_bind_referrer", [alice.id], bob.referral_code
        )
        self.assertIn("referral cycle", message)
        node = alice.referral_node_id
        message = self._rpc_error(
            "points.referral.node",
            "action_reassign",
            [node.id],
            bob.referral_node_id.id,
            "top under its own team",
        )
        self.assertIn("referral cycle", message)
        self.env.invalidate_all()
        self.assertFalse(node.parent_id)
        self.assertEqual(bob.referrer_id, self.alice)
        self.assertEqual(
            self.env["points.referral.log"].search_count(
                [("node_id", "in", (alice | bob).referral_node_id.ids)]
            ),
            1,
        )
