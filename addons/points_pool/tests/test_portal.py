from ast import literal_eval

from lxml import html

from odoo import Command, http
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST

from .common import PointsPoolCommon

ALICE_LOGIN = "pp_portal_alice"
BOB_LOGIN = "pp_portal_bob"
CAROL_LOGIN = "pp_portal_carol"


class PointsPortalCommon(PointsPoolCommon, HttpCase):
    """Portal users for Alice and Bob (password = login, as ``start_tour`` expects)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.alice_user, cls.bob_user = (
            new_test_user(
                cls.env,
                login=login,
                password=login,
                groups="base.group_portal",
                partner_id=partner.id,
                name=partner.name,
                email=f"{login}@example.com",
                company_id=company.id,
            )
            for login, partner in ((ALICE_LOGIN, cls.alice), (BOB_LOGIN, cls.bob))
        )

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _login(self, login):
        self.authenticate(login, login)

    def _csrf(self):
        return http.Request.csrf_token(self)

    def _get(self, url, **kwargs):
        return self.url_open(url, allow_redirects=kwargs.pop("allow_redirects", True))

    def _post(self, url, data=None, allow_redirects=False):
        return self.url_open(
            url,
            data=dict(data or {}, csrf_token=self._csrf()),
            allow_redirects=allow_redirects,
        )

    @staticmethod
    def _doc(response):
        return html.fromstring(response.text)

    @staticmethod
    def _text(doc, css_class):
        nodes = doc.xpath(f"//*[contains(concat(' ', @class, ' '), ' {css_class} ')]")
        return " ".join(" ".join(node.text_content().split()) for node in nodes)

    def _quote(self, member, points):
        """POST the sell form; :return: (response, sell token of the quote page)."""
        response = self._post(
            f"/my/points/{member.id}/sell/confirm", {"points": points}
        )
        tokens = self._doc(response).xpath("//input[@name='sell_token']/@value")
        return response, tokens[0] if tokens else None

    def _portal_sell(self, member, points):
        """Sell through the portal forms (quote, then confirm)."""
        _response, token = self._quote(member, points)
        self.assertTrue(token, "the quote page carries a confirmation token")
        return self._post(
            f"/my/points/{member.id}/sell/do",
            {"points": points, "sell_token": token},
        )

    def _state(self, member):
        """What a portal request must not change when it fails."""
        self.env.invalidate_all()
        return {
            "points": member.points_held,
            "wallet": member.wallet_balance,
            "available": member.wallet_available,
            "credit": member.credit_balance,
            "ledger": sorted(member.ledger_ids.ids),
            "withdrawals": sorted(
                (withdrawal.id, withdrawal.state, withdrawal.amount)
                for withdrawal in member.withdrawal_ids
            ),
            "parent": member.referral_node_id.parent_id.id,
        }


@tagged("post_install", "-at_install")
class TestPointsPortalReferral(PointsPortalCommon):
    def test_signup_through_link_binds_once_and_orders_do_not_rebind(self):
        """Link -> signup binds to Alice; Bob's link and Bob's code change nothing."""
        self._buy(self.alice)
        self._buy(self.bob)
        alice_node = self._member(self.alice).referral_node_id
        bob_member = self._member(self.bob)
        bob_node = bob_member.referral_node_id
        bob_before = self._state(bob_member)
        self.env["ir.config_parameter"].sudo().set_param(
            "auth_signup.invitation_scope", "b2c"
        )
        # signups land in the pool's company (a website would set it)
        template = (
            self.env["res.users"]
            .sudo()
            .browse(
                literal_eval(
                    self.env["ir.config_parameter"]
                    .sudo()
                    .get_param("base.template_portal_user_id")
                )
            )
        )
        template.write(
            {
                "company_ids": [Command.link(self.env.company.id)],
                "company_id": self.env.company.id,
            }
        )

        self.authenticate(None, None)
        # the test session cookie has no domain; give it the server's one so
        # the session cookie set at signup replaces it instead of shadowing it
        self.opener.cookies.clear()
        self.opener.cookies.set("session_id", self.session.sid, domain=HOST, path="/")
        response = self.url_open(f"/r/{alice_node.code}", allow_redirects=False)
        self.assertIn("/web/signup", response.headers["Location"])
        self.assertEqual(self.opener.cookies.get("pp_ref"), alice_node.code)
        self.url_open(
            "/web/signup",
            data={
                "login": "erin@example.com",
                "name": "Erin",
                "password": "erin-secret-1",
                "confirm_password": "erin-secret-1",
                "redirect": "/my/points",
                "csrf_token": self._csrf(),
            },
        )
        self.env.invalidate_all()
        user = self.env["res.users"].search([("login", "=", "erin@example.com")])
        self.assertTrue(user, "the signup created the user")
        member = self._member(user.partner_id)
        node = member.referral_node_id
        self.assertEqual(node.parent_id, alice_node)
        self.assertEqual(node.bind_source, "signup")

        # the new user is logged in and sees the membership
        response = self._get("/my/points")
        self.assertTrue(response.url.endswith(f"/my/points/{member.id}"))
        self.assertIn(member.referral_code, response.text)

        # the new user, now logged in, follows Bob's link: no re-binding
        response = self.url_open(f"/r/{bob_node.code}", allow_redirects=False)
        self.assertEqual(response.headers["Location"].split("?")[0][-10:], "/my/points")
        self.assertNotIn("/web/", response.headers["Location"])
        self.env.invalidate_all()
        self.assertEqual(node.parent_id, alice_node)
        self.assertEqual(node.bind_source, "signup")

        # an order carrying Bob's code keeps the binding to Alice
        order = self.env["sale.order"].create(
            {
                "partner_id": user.partner_id.id,
                "points_referral_code": bob_node.code,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "price_unit": 1000.0,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        self._pay(self._invoice(order))
        self._settle()
        self.env.invalidate_all()
        self.assertEqual(node.parent_id, alice_node)
        self.assertEqual(node.bind_source, "signup")
        self.assertGreater(node.own_volume, 0.0)
        self.assertEqual(alice_node.direct_count, 1)
        self.assertEqual(alice_node.team_volume, node.own_volume)
        self.assertEqual(bob_node.direct_count, 0)
        self.assertEqual(bob_node.team_count, 0)
        self.assertEqual(bob_node.team_volume, 0.0)
        self.assertEqual(self._state(bob_member), bob_before)

        # the new member's portal shows the referrer, not Bob
        response = self._get(f"/my/points/{member.id}/team")
        self.assertIn("Alice", self._text(self._doc(response), "o_points_referrer"))


@tagged("post_install", "-at_install")
class TestPointsPortalAccess(PointsPortalCommon):
    def test_other_members_pages_are_not_found(self):
        """Bob gets 404 on every page of Alice's and no data of hers."""
        self._buy(self.alice)
        self._buy(self.bob)
        alice_member, bob_member = self._member(self.alice), self._member(self.bob)
        alice_member._sell(10)
        withdrawal = alice_member._request_withdrawal(5.0)
        self._login(BOB_LOGIN)
        own = self._get(f"/my/points/{bob_member.id}")
        self.assertEqual(own.status_code, 200)
        self.assertIn(bob_member.referral_code, own.text)
        for path in ("", "/ledger", "/ledger/page/2", "/wallet", "/team", "/sell"):
            response = self._get(f"/my/points/{alice_member.id}{path}")
            self.assertEqual(response.status_code, 404, path)
            self.assertNotIn(alice_member.referral_code, response.text, path)
            self.assertNotIn(withdrawal.name, response.text, path)
        # Bob's own withdrawals page does not list Alice's
        response = self._get(f"/my/points/{bob_member.id}/wallet")
        self.assertNotIn(withdrawal.name, response.text)
        # the counter and /my/points only know Bob's membership
        self.assertEqual(
            self.make_jsonrpc_request("/my/counters", {"counters": ["points_count"]}),
            {"points_count": 1},
        )
        response = self._get("/my/points")
        self.assertTrue(response.url.endswith(f"/my/points/{bob_member.id}"))

    def test_other_members_actions_change_nothing(self):
        """Bob's POSTs on Alice's member and withdrawal are 404 and change nothing."""
        self._buy(self.alice)
        self._buy(self.bob)
        alice_member, bob_member = self._member(self.alice), self._member(self.bob)
        alice_member._sell(10)
        withdrawal = alice_member._request_withdrawal(5.0)
        alice_before = self._state(alice_member)
        bob_before = self._state(bob_member)
        self._login(BOB_LOGIN)
        # a valid confirmation token of Bob's own quote does not open Alice's sale
        _response, token = self._quote(bob_member, "1")
        self.assertTrue(token)
        attempts = [
            (f"/my/points/{alice_member.id}/sell/confirm", {"points": "10"}),
            (
                f"/my/points/{alice_member.id}/sell/do",
                {"points": "10", "sell_token": token},
            ),
            (f"/my/points/{alice_member.id}/withdraw", {"amount": "1"}),
            (f"/my/points/withdrawal/{withdrawal.id}/cancel", {}),
            (
                f"/my/points/{alice_member.id}/referrer",
                {"code": bob_member.referral_code},
            ),
        ]
        for url, data in attempts:
            response = self._post(url, data)
            self.assertEqual(response.status_code, 404, url)
        self.assertEqual(self._state(alice_member), alice_before)
        self.assertEqual(withdrawal.state, "requested")
        self.assertEqual(self._state(bob_member), bob_before)

    def test_public_visitor_is_sent_to_login(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        self.authenticate(None, None)
        response = self._get(f"/my/points/{member.id}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        response = self.url_open(
            f"/my/points/{member.id}/withdraw",
            data={"amount": "1", "csrf_token": self._csrf()},
            allow_redirects=False,
        )
        self.assertNotEqual(response.status_code, 200)
        self.assertFalse(member.withdrawal_ids)


@tagged("post_install", "-at_install")
class TestPointsPortal(PointsPortalCommon):
    def test_overview_shows_position(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        position = member.get_position()
        self._login(ALICE_LOGIN)
        response = self._get("/my/points")
        self.assertTrue(response.url.endswith(f"/my/points/{member.id}"))
        doc = self._doc(response)
        self.assertEqual(position["points"], 210.0)
        self.assertEqual(self._text(doc, "o_points_held"), "210.0000")
        self.assertEqual(self._text(doc, "o_points_free"), "210.0000")
        self.assertEqual(self._text(doc, "o_points_price"), "1.4286")
        self.assertIn(f"{position['value']:.2f}", self._text(doc, "o_points_value"))
        self.assertIn(
            "it is not guaranteed, not a deposit or investment, and most "
            "participants do not recover their spend",
            self._text(doc, "o_points_disclosure"),
        )
        self.assertEqual(
            doc.xpath("//input[contains(@class, 'o_points_referral_link')]/@value"),
            [member.referral_url],
        )
        self.assertEqual(
            doc.xpath("//img[contains(@class, 'o_points_qr')]/@src"),
            [f"/r/{member.referral_code}/qr.png"],
        )
        qr = self._get(f"/r/{member.referral_code}/qr.png")
        self.assertEqual(qr.headers["Content-Type"], "image/png")
        self.assertTrue(qr.content.startswith(b"\x89PNG"))
        self.assertEqual(
            len(doc.xpath("//tr[contains(@class, 'o_points_ledger_line')]")),
            len(member.ledger_ids[:5]),
        )
        self.assertEqual(
            self.make_jsonrpc_request("/my/counters", {"counters": ["points_count"]}),
            {"points_count": 1},
        )

    def test_ledger_paging(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        for _i in range(22):
            member._sell(1)
        lines = self.env["points.pool.move"].search([("member_id", "=", member.id)])
        self.assertGreater(len(lines), 20)
        self._login(ALICE_LOGIN)

        def shown(url):
            doc = self._doc(self._get(url))
            return [
                int(line_id)
                for line_id in doc.xpath(
                    "//tr[contains(@class, 'o_points_ledger_line')]/@data-line-id"
                )
            ]

        self.assertEqual(shown(f"/my/points/{member.id}/ledger"), lines[:20].ids)
        self.assertEqual(shown(f"/my/points/{member.id}/ledger?page=2"), lines[20:].ids)
        self.assertEqual(shown(f"/my/points/{member.id}/ledger/page/2"), lines[20:].ids)

    def test_sell_quote_then_sale(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        quote = member.get_sell_quote(25)
        self._login(ALICE_LOGIN)
        form = self._doc(self._get(f"/my/points/{member.id}/sell"))
        self.assertEqual(self._text(form, "o_points_free"), "210.0000")
        self.assertEqual(self._text(form, "o_points_price"), "1.4286")
        response, token = self._quote(member, "25")
        doc = self._doc(response)
        self.assertIn(
            f"{quote['payout']:.2f}", self._text(doc, "o_points_quote_payout")
        )
        self.assertIn(f"{quote['gross']:.2f}", self._text(doc, "o_points_quote_gross"))
        self.assertIn(
            f"{quote['retention']:.2f}", self._text(doc, "o_points_quote_retention")
        )
        self.assertEqual(self._text(doc, "o_points_quote_points"), "25.0000")
        self.assertIn("not guaranteed", self._text(doc, "o_points_disclosure"))
        self.assertEqual(member.points_held, 210.0, "a quote sells nothing")
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "25", "sell_token": token}
        )
        self.env.invalidate_all()
        sell = member.ledger_ids.filtered(lambda line: line.kind == "sell")
        self.assertEqual(sell.points, -25.0)
        self.assertEqual(sell.wallet, quote["payout"])
        self.assertEqual(member.points_held, 185.0)
        self.assertEqual(member.wallet_balance, quote["payout"])
        self.assertTrue(
            response.headers["Location"].endswith(
                f"/my/points/{member.id}?sold={sell.id}"
            )
        )
        doc = self._doc(self._get(response.headers["Location"]))
        self.assertIn(f"{quote['payout']:.2f}", self._text(doc, "o_points_sold"))
        self.assertIn(f"{quote['payout']:.2f}", self._text(doc, "o_points_wallet"))
        # the same confirmation cannot sell twice (double click, back button)
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "25", "sell_token": token}
        )
        self.assertIn("already used", self._text(self._doc(response), "o_points_error"))
        self.env.invalidate_all()
        self.assertEqual(member.points_held, 185.0)
        self.assertEqual(
            len(member.ledger_ids.filtered(lambda line: line.kind == "sell")), 1
        )

    def test_sell_bad_input_changes_nothing(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        before = self._state(member)
        self._login(ALICE_LOGIN)
        cases = {
            "-5": "must be positive",
            "0": "must be positive",
            "1000": "at most",
            "abc": "must be a number",
            "1e5": "must be a number",
            "nan": "must be a number",
            "": "must be a number",
        }
        for points, message in cases.items():
            response, token = self._quote(member, points)
            self.assertEqual(response.status_code, 200, points)
            self.assertIsNone(token, points)
            self.assertIn(message, self._text(self._doc(response), "o_points_error"))
        # a valid token of a quote for 1 point does not sell other points
        for points in ("-5", "1000", "x", ""):
            _response, token = self._quote(member, "1")
            response = self._post(
                f"/my/points/{member.id}/sell/do",
                {"points": points, "sell_token": token},
            )
            self.assertIn(
                "already used", self._text(self._doc(response), "o_points_error")
            )
        self.assertEqual(self._state(member), before)

    def test_sell_token_is_bound_to_the_quoted_points(self):
        """A quote for 1 point cannot sell 100; the refused token is spent."""
        self._buy(self.alice)
        member = self._member(self.alice)
        before = self._state(member)
        self._login(ALICE_LOGIN)
        _response, token = self._quote(member, "1")
        self.assertTrue(token)
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "100", "sell_token": token}
        )
        self.assertEqual(self._state(member), before, "the forged sale sold points")
        self.assertEqual(response.status_code, 200)
        self.assertIn("already used", self._text(self._doc(response), "o_points_error"))
        # the token was used up by the refused attempt: not even 1 point now
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "1", "sell_token": token}
        )
        self.assertIn("already used", self._text(self._doc(response), "o_points_error"))
        self.assertEqual(self._state(member), before)
        # a newer quote replaces the older one: its token cannot sell the new points
        _response, old_token = self._quote(member, "1")
        _response, new_token = self._quote(member, "2")
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "2", "sell_token": old_token}
        )
        self.assertIn("already used", self._text(self._doc(response), "o_points_error"))
        self.assertEqual(self._state(member), before)
        # the quoted points with their own token sell, once
        _response, token = self._quote(member, "2")
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "2", "sell_token": token}
        )
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(member.points_held, 208.0)
        # a quote that no longer holds is still refused by the sale itself
        _response, token = self._quote(member, "200")
        self.assertTrue(token)
        member._sell(20)
        held = self._state(member)
        response = self._post(
            f"/my/points/{member.id}/sell/do", {"points": "200", "sell_token": token}
        )
        self.assertIn("only", self._text(self._doc(response), "o_points_error"))
        self.assertEqual(self._state(member), held)

    def test_sell_token_is_bound_to_the_member(self):
        """A token of Alice's quote, carried into Bob's session, sells nothing."""
        self._buy(self.alice)
        self._buy(self.bob)
        alice_member, bob_member = self._member(self.alice), self._member(self.bob)
        bob_before = self._state(bob_member)
        self._login(ALICE_LOGIN)
        _response, token = self._quote(alice_member, "1")
        self.assertTrue(token)
        store = http.root.session_store
        carried = {
            key: value
            for key, value in store.get(self.session.sid).items()
            if key.startswith("points_pool_sell")
        }
        self.assertTrue(carried, "the quote keeps its token in the session")
        self._login(BOB_LOGIN)
        session = store.get(self.session.sid)
        session.update(carried)
        store.save(session)
        response = self._post(
            f"/my/points/{bob_member.id}/sell/do", {"points": "1", "sell_token": token}
        )
        self.assertEqual(self._state(bob_member), bob_before, "Alice's token sold")
        self.assertEqual(response.status_code, 200)
        self.assertIn("already used", self._text(self._doc(response), "o_points_error"))

    def test_withdrawal_request_and_cancel(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        member._sell(10)
        self.assertEqual(member.wallet_balance, 11.42)
        self._login(ALICE_LOGIN)
        response = self._post(f"/my/points/{member.id}/withdraw", {"amount": "5"})
        withdrawal = member.withdrawal_ids
        self.assertEqual(len(withdrawal), 1)
        self.assertEqual(withdrawal.state, "requested")
        self.assertEqual(withdrawal.amount, 5.0)
        self.env.invalidate_all()
        self.assertEqual(member.wallet_balance, 11.42)
        self.assertEqual(member.wallet_available, 6.42)
        doc = self._doc(self._get(response.headers["Location"]))
        self.assertIn(withdrawal.name, self._text(doc, "o_points_requested"))
        self.assertEqual(self._text(doc, "o_points_withdrawal_state"), "Requested")
        self.assertIn("6.42", self._text(doc, "o_points_wallet_available"))

        self._post(f"/my/points/withdrawal/{withdrawal.id}/cancel")
        self.env.invalidate_all()
        self.assertEqual(withdrawal.state, "cancelled")
        self.assertEqual(member.wallet_available, 11.42)
        # cancelling twice fails and changes nothing
        before = self._state(member)
        response = self._post(f"/my/points/withdrawal/{withdrawal.id}/cancel")
        self.assertIn(
            "Only requested", self._text(self._doc(response), "o_points_error")
        )
        self.assertEqual(self._state(member), before)

    def test_withdrawal_bad_input_changes_nothing(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        member._sell(10)
        member._request_withdrawal(10.0)
        before = self._state(member)
        self._login(ALICE_LOGIN)
        cases = {
            "1.43": "cannot withdraw",  # 11.42 - 10 requested = 1.42 available
            "100": "cannot withdraw",
            "-1": "must be positive",
            "0": "must be positive",
            "abc": "must be a number",
            "": "must be a number",
        }
        for amount, message in cases.items():
            response = self._post(
                f"/my/points/{member.id}/withdraw", {"amount": amount}
            )
            self.assertEqual(response.status_code, 200, amount)
            self.assertIn(message, self._text(self._doc(response), "o_points_error"))
        self.assertEqual(self._state(member), before)

    def test_team_page_and_binding(self):
        self._buy(self.alice)
        self._buy(self.bob)
        alice_member, bob_member = self._member(self.alice), self._member(self.bob)
        self._login(ALICE_LOGIN)
        doc = self._doc(self._get(f"/my/points/{alice_member.id}/team"))
        self.assertTrue(doc.xpath("//form[contains(@class, 'o_points_referrer_form')]"))
        # errors: unknown code, own code; nothing bound
        for code, message in (
            ("NOPE-0000", "Unknown referral code"),
            (alice_member.referral_code, "cannot refer themselves"),
        ):
            response = self._post(
                f"/my/points/{alice_member.id}/referrer", {"code": code}
            )
            self.assertIn(message, self._text(self._doc(response), "o_points_error"))
            self.env.invalidate_all()
            self.assertFalse(alice_member.referral_node_id.parent_id)
        response = self._post(
            f"/my/points/{alice_member.id}/referrer",
            {"code": bob_member.referral_code},
        )
        self.env.invalidate_all()
        self.assertEqual(
            alice_member.referral_node_id.parent_id, bob_member.referral_node_id
        )
        self.assertEqual(alice_member.bind_source, "code")
        doc = self._doc(self._get(response.headers["Location"]))
        self.assertIn("Bob", self._text(doc, "o_points_referrer"))
        self.assertFalse(
            doc.xpath("//form[contains(@class, 'o_points_referrer_form')]")
        )
        # Bob sees Alice by name, with counts and volumes, nothing more of hers
        self._login(BOB_LOGIN)
        doc = self._doc(self._get(f"/my/points/{bob_member.id}/team"))
        self.assertEqual(self._text(doc, "o_points_direct_members"), "Alice")
        self.assertEqual(self._text(doc, "o_points_direct_count"), "1")
        self.assertEqual(self._text(doc, "o_points_team_count"), "1")
        info = bob_member.get_referral_info()
        self.assertIn(
            f"{info['team_volume']:,.2f}", self._text(doc, "o_points_team_volume")
        )
        self.assertNotIn(alice_member.referral_code, doc.text_content())

    def test_not_a_member_can_join(self):
        new_test_user(
            self.env,
            login=CAROL_LOGIN,
            password=CAROL_LOGIN,
            groups="base.group_portal",
            partner_id=self.carol.id,
            name="Carol",
            company_id=self.env.company.id,
        )
        self._login(CAROL_LOGIN)
        doc = self._doc(self._get("/my/points"))
        self.assertIn("not a member", self._text(doc, "o_points_not_member"))
        self.assertFalse(self._member(self.carol))
        self._post("/my/points/join")
        member = self._member(self.carol)
        self.assertEqual(len(member), 1)
        response = self._get("/my/points")
        self.assertTrue(response.url.endswith(f"/my/points/{member.id}"))


@tagged("post_install", "-at_install")
class TestPointsPortalAccounting(PointsPortalCommon):
    def _snapshot(self, lines):
        ledger = sorted(
            (
                line.kind,
                line.number,
                line.points,
                line.fund,
                line.reserve,
                line.wallet,
                line.credit,
                line.gross,
                line.price_before,
                line.price_after,
                line.member_id.id,
            )
            for line in lines
        )
        moves = lines.account_move_id
        entries = sorted(
            (
                move.journal_id.id,
                move.name,
                move.state,
                str(move.date),
                move.ref,
                tuple(
                    sorted(
                        (
                            aml.account_id.id,
                            aml.partner_id.id,
                            aml.debit,
                            aml.credit,
                            aml.name,
                        )
                        for aml in move.line_ids
                    )
                ),
            )
            for move in moves
        )
        return ledger, entries

    def test_portal_sale_posts_like_back_office(self):
        self._buy(self.alice)
        member = self._member(self.alice)
        last_line = max(member.ledger_ids.ids)
        with self.env.cr.savepoint() as savepoint:
            expected = self._snapshot(member._sell(25))
            savepoint.close(rollback=True)
        self.env.invalidate_all()
        self.assertEqual(member.points_held, 210.0, "the back-office sale is undone")
        self.assertEqual(max(member.ledger_ids.ids), last_line)
        ledger, entries = expected
        self.assertIn("sell", [row[0] for row in ledger])
        self.assertTrue(entries)
        self.assertTrue(all(entry[2] == "posted" for entry in entries), entries)

        self._login(ALICE_LOGIN)
        self._portal_sell(member, "25")
        self.env.invalidate_all()
        lines = member.ledger_ids.filtered(lambda line: line.id > last_line)
        self.assertEqual(self._snapshot(lines), expected)


@tagged("post_install", "-at_install")
class TestPointsPortalTour(PointsPortalCommon):
    def test_portal_tour(self):
        self._buy(self.alice)
        self.start_tour("/my/points", "points_pool_portal", login=ALICE_LOGIN)
        member = self._member(self.alice)
        self.env.invalidate_all()
        sell = member.ledger_ids.filtered(lambda line: line.kind == "sell")
        self.assertEqual(sell.points, -10.0)
        self.assertEqual(sell.wallet, 11.42)
        self.assertEqual(sell.account_move_id.state, "posted")
        self.assertEqual(member.points_held, 200.0)
        self.assertEqual(member.wallet_balance, 11.42)
        withdrawal = member.withdrawal_ids
        self.assertEqual(len(withdrawal), 1)
        self.assertEqual(withdrawal.state, "requested")
        self.assertEqual(withdrawal.amount, 5.0)
        self.assertEqual(member.wallet_available, 6.42)
