"""Issue 11: members pay an open invoice from the portal with their repurchase
credit (``/my/points/pay/<invoice id>``, the invoice page's button)."""

from odoo import Command
from odoo.tests import tagged

from .test_portal import ALICE_LOGIN, BOB_LOGIN, PointsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalSpend(PointsPortalCommon):
    def setUp(self):
        super().setUp()
        self.pool.cash_share = 70.0
        self.member = self._credit_of_300()

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _credit_of_300(self):
        """As test_spend.py: Alice sells into her wallet, withdraws 1000 at
        70/30: 300 of repurchase credit."""
        self._buy(self.alice, 5000.0)
        self._buy(self.bob, 5000.0)
        member = self._member(self.alice)
        self._sell_line(member, member.points_free)
        withdrawal = member._request_withdrawal(1000.0)
        withdrawal.action_approve()
        self.assertEqual(member.credit_balance, 300.0)
        return member

    def _open_invoice(self, amount=500.0, partner=None):
        invoice = self._invoice(self._order(partner or self.alice, amount))
        self.assertTrue(invoice.points_can_pay)
        return invoice

    def _spends(self, invoice):
        return self.env["points.pool.move"].search(
            [
                ("kind", "=", "spend"),
                ("res_model", "=", "account.move"),
                ("res_id", "=", invoice.id),
            ]
        )

    def _pay_state(self, invoice, *members):
        """What a refused payment must not change."""
        self.env.invalidate_all()
        return {
            "members": [self._state(member) for member in members],
            "residual": invoice.amount_residual,
            "payment_state": invoice.payment_state,
            "spends": self._spends(invoice).ids,
            "ledger": self.pool.ledger_number,
        }

    def _form(self, invoice, **params):
        """GET the confirmation page: (response, its form's pay token)."""
        query = "&".join(f"{key}={value}" for key, value in params.items())
        response = self._get(f"/my/points/pay/{invoice.id}?{query}")
        tokens = self._doc(response).xpath(
            "//form[contains(@class, 'o_points_pay_form')]"
            "//input[@name='pay_token']/@value"
        )
        return response, tokens[0] if tokens else None

    def _confirm(self, invoice, amount, token, **data):
        return self._post(
            f"/my/points/pay/{invoice.id}/confirm",
            dict(data, amount=amount, pay_token=token),
        )

    def _has_pay_button(self, invoice):
        doc = self._doc(self._get(f"/my/invoices/{invoice.id}"))
        return doc.xpath("//a[contains(@class, 'o_points_pay_button')]/@href")

    # ------------------------------------------------------------------
    # tests
    # ------------------------------------------------------------------
    def test_confirmation_page_then_partial_payment(self):
        invoice = self._open_invoice(500.0)
        self._login(ALICE_LOGIN)
        response, token = self._form(invoice)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(token)
        doc = self._doc(response)
        self.assertIn(invoice.name, self._text(doc, "o_points_pay_invoice_name"))
        self.assertIn("500.00", self._text(doc, "o_points_pay_due"))
        self.assertIn("300.00", self._text(doc, "o_points_pay_credit"))
        self.assertEqual(doc.xpath("//input[@name='amount']/@value"), ["300.00"])
        self.assertIn("200.00", self._text(doc, "o_points_pay_left"))
        self.assertEqual(self.member.credit_balance, 300.0, "a form pays nothing")

        response = self._confirm(invoice, "120", token)
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        spend = self._spends(invoice)
        self.assertEqual(len(spend), 1)
        self.assertEqual(
            (spend.kind, spend.credit, spend.wallet, spend.member_id),
            ("spend", -120.0, 0.0, self.member),
        )
        self.assertEqual(spend.account_move_id.state, "posted")
        self.assertEqual(self.member.credit_balance, 180.0)
        self.assertEqual(self.member.credit_spent, 120.0)
        self.assertEqual(invoice.amount_residual, 380.0)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.points_spent, 120.0)
        # the chatter note is Alice's (the portal user paid, not a superuser)
        note = invoice.message_ids.filtered(
            lambda message: "paid with repurchase credit" in (message.body or "")
        )
        self.assertEqual(note.author_id, self.alice)
        location = response.headers["Location"]
        self.assertTrue(
            location.endswith(f"/my/invoices/{invoice.id}?points_paid={spend.id}"),
            location,
        )
        doc = self._doc(self._get(location))
        self.assertIn("120.00", self._text(doc, "o_points_paid_amount"))
        self.assertIn("380.00", self._text(doc, "o_points_paid_left"))
        # the ledger pages list the use
        doc = self._doc(self._get(f"/my/points/{self.member.id}/ledger"))
        self.assertIn(
            str(spend.id),
            doc.xpath("//tr[contains(@class, 'o_points_ledger_line')]/@data-line-id"),
        )

    def test_double_submit_pays_once(self):
        invoice = self._open_invoice(500.0)
        self._login(ALICE_LOGIN)
        _response, token = self._form(invoice)
        first = self._confirm(invoice, "100", token)
        again = self._confirm(invoice, "100", token)
        # even a resubmitted form with another amount does not pay again
        other = self._confirm(invoice, "50", token)
        self.assertEqual(first.status_code, 303)
        self.assertEqual(again.headers["Location"], first.headers["Location"])
        self.assertEqual(other.headers["Location"], first.headers["Location"])
        self.env.invalidate_all()
        self.assertEqual(len(self._spends(invoice)), 1)
        self.assertEqual(self.member.credit_balance, 200.0)
        self.assertEqual(invoice.amount_residual, 400.0)
        # a new form is a new payment
        _response, new_token = self._form(invoice)
        self.assertNotEqual(new_token, token)
        doc = self._doc(_response)
        self.assertEqual(doc.xpath("//input[@name='amount']/@value"), ["200.00"])
        self._confirm(invoice, "50", new_token)
        self.env.invalidate_all()
        self.assertEqual(len(self._spends(invoice)), 2)
        self.assertEqual(self.member.credit_balance, 150.0)
        self.assertEqual(invoice.amount_residual, 350.0)

    def test_bad_amounts_show_an_error_and_change_nothing(self):
        invoice = self._open_invoice(500.0)
        small = self._open_invoice(100.0)
        before = self._pay_state(invoice, self.member)
        small_before = self._pay_state(small, self.member)
        self._login(ALICE_LOGIN)
        cases = [
            (invoice, "400", "only $ 300.00 is available"),
            (invoice, "300.01", "is available"),
            (invoice, "-5", "must be positive"),
            (invoice, "0", "must be positive"),
            (invoice, "abc", "must be a number"),
            (invoice, "1e5", "must be a number"),
            (invoice, "nan", "must be a number"),
            (invoice, "", "must be a number"),
            (small, "150", "is left to pay on this invoice"),
        ]
        for target, amount, message in cases:
            with self.subTest(amount=amount):
                _response, token = self._form(target)
                response = self._confirm(target, amount, token)
                self.assertEqual(response.status_code, 200)
                doc = self._doc(response)
                self.assertIn(message, self._text(doc, "o_points_error"))
                # the form comes back with what was typed and the same token
                self.assertEqual(doc.xpath("//input[@name='amount']/@value"), [amount])
                self.assertEqual(
                    doc.xpath("//input[@name='pay_token']/@value"), [token]
                )
        # a form without its token (or a forged one) pays nothing either
        for token in (None, "", "short", "x" * 65, "bad token with spaces!"):
            with self.subTest(token=token):
                data = {"amount": "10"}
                if token is not None:
                    data["pay_token"] = token
                response = self._post(f"/my/points/pay/{invoice.id}/confirm", data)
                self.assertEqual(response.status_code, 200)
                self.assertIn(
                    "expired", self._text(self._doc(response), "o_points_error")
                )
        self.assertEqual(self._pay_state(invoice, self.member), before)
        self.assertEqual(self._pay_state(small, self.member), small_before)
        # the refused token still pays the corrected amount, once
        _response, token = self._form(invoice)
        self._confirm(invoice, "400", token)
        response = self._confirm(invoice, "40", token)
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(self.member.credit_balance, 260.0)
        self.assertEqual(invoice.amount_residual, 460.0)

    def test_another_partners_invoice_is_refused(self):
        alice_invoice = self._open_invoice(500.0)
        bob_invoice = self._open_invoice(500.0, partner=self.bob)
        bob_member = self._member(self.bob)
        alice_before = self._pay_state(alice_invoice, self.member, bob_member)
        bob_before = self._pay_state(bob_invoice, self.member, bob_member)
        # Alice, with credit, on Bob's invoice: even with its access token
        self._login(ALICE_LOGIN)
        _response, alice_token = self._form(alice_invoice)
        self.assertTrue(alice_token)
        bob_access = bob_invoice._portal_ensure_token()
        for data in ({}, {"access_token": bob_access}):
            with self.subTest(user="alice", data=data):
                url = f"/my/points/pay/{bob_invoice.id}"
                if data:
                    url += f"?access_token={bob_access}"
                response = self._get(url)
                self.assertIn(response.status_code, (403, 404))
                self.assertNotIn(bob_invoice.name, response.text)
                response = self._confirm(bob_invoice, "100", alice_token, **data)
                self.assertIn(response.status_code, (403, 404))
        # her own invoice page offers the payment, Bob's (token link) does not
        self.assertTrue(self._has_pay_button(alice_invoice))
        response = self._get(f"/my/invoices/{bob_invoice.id}?access_token={bob_access}")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(
            self._doc(response).xpath("//a[contains(@class, 'o_points_pay_button')]")
        )
        # Bob on Alice's invoice, with its access token too
        alice_access = alice_invoice._portal_ensure_token()
        self._login(BOB_LOGIN)
        _response, bob_token = self._form(bob_invoice)
        for data in ({}, {"access_token": alice_access}):
            with self.subTest(user="bob", data=data):
                url = f"/my/points/pay/{alice_invoice.id}"
                if data:
                    url += f"?access_token={alice_access}"
                response = self._get(url)
                self.assertIn(response.status_code, (403, 404))
                response = self._confirm(
                    alice_invoice, "100", bob_token or "b" * 22, **data
                )
                self.assertIn(response.status_code, (403, 404))
        # an unknown invoice, Alice's own vendor bill: not found either
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.alice.id,
                "invoice_date": "2026-01-01",
                "invoice_line_ids": [
                    Command.create({"name": "Service", "price_unit": 50.0})
                ],
            }
        )
        bill.action_post()
        self._login(ALICE_LOGIN)
        self.assertEqual(self._get(f"/my/invoices/{bill.id}").status_code, 200)
        for url in ("/my/points/pay/999999999", f"/my/points/pay/{bill.id}"):
            self.assertEqual(self._get(url).status_code, 404, url)
        response = self._confirm(bill, "10", alice_token)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(bill.amount_residual, 50.0)
        self.assertEqual(
            self._pay_state(alice_invoice, self.member, bob_member), alice_before
        )
        self.assertEqual(
            self._pay_state(bob_invoice, self.member, bob_member), bob_before
        )

    def test_pay_button_and_list_only_with_credit(self):
        invoice = self._open_invoice(500.0)
        other = self._open_invoice(300.0)
        paid = self._buy(self.alice, 100.0, settle=False)[1]
        bob_invoice = self._open_invoice(200.0, partner=self.bob)
        self._login(ALICE_LOGIN)
        # own open invoice, credit held: the button opens the confirmation
        self.assertEqual(
            self._has_pay_button(invoice), [f"/my/points/pay/{invoice.id}"]
        )
        self.assertFalse(self._has_pay_button(paid), "nothing left to pay")
        doc = self._doc(self._get(f"/my/points/{self.member.id}"))
        listed = doc.xpath("//tr[contains(@class, 'o_points_pay_invoice')]")
        self.assertEqual(
            sorted(int(row.get("data-invoice-id")) for row in listed),
            sorted((invoice | other).ids),
        )
        self.assertEqual(
            sorted(doc.xpath("//a[contains(@class, 'o_points_pay_link')]/@href")),
            sorted(f"/my/points/pay/{move.id}" for move in invoice | other),
        )
        # a paid invoice has no form
        response, token = self._form(paid)
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(token)
        self.assertIn(
            "Nothing is left to pay",
            self._text(self._doc(response), "o_points_pay_unavailable"),
        )
        # all the credit spent: no button, no list, no form
        _response, token = self._form(other)
        self.assertEqual(self._confirm(other, "300", token).status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(self.member.credit_balance, 0.0)
        self.assertIn(other.payment_state, ("paid", "in_payment"))
        self.assertFalse(self._has_pay_button(invoice))
        self.assertFalse(self._has_pay_button(other))
        doc = self._doc(self._get(f"/my/points/{self.member.id}"))
        self.assertFalse(doc.xpath("//*[contains(@class, 'o_points_pay_invoices')]"))
        response, token = self._form(invoice)
        self.assertIsNone(token)
        self.assertIn(
            "no repurchase credit",
            self._text(self._doc(response), "o_points_pay_unavailable"),
        )
        # Bob (a member without credit) sees no button on his own invoice
        self._login(BOB_LOGIN)
        self.assertEqual(self._member(self.bob).credit_balance, 0.0)
        self.assertFalse(self._has_pay_button(bob_invoice))
        doc = self._doc(self._get(f"/my/points/{self._member(self.bob).id}"))
        self.assertFalse(doc.xpath("//*[contains(@class, 'o_points_pay_invoices')]"))

    def test_portal_pay_tour(self):
        """Chromium: overview -> pay link -> confirm 120 -> invoice page."""
        invoice = self._open_invoice(500.0)
        self.start_tour("/my/points", "points_portal_pay", login=ALICE_LOGIN)
        self.env.invalidate_all()
        spend = self._spends(invoice)
        self.assertEqual((spend.kind, spend.credit), ("spend", -120.0))
        self.assertEqual(self.member.credit_balance, 180.0)
        self.assertEqual(invoice.amount_residual, 380.0)
        self.assertEqual(invoice.payment_state, "partial")
