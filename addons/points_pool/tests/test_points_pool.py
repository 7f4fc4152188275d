from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestPointsPoolSeeds(PointsPoolCommon):
    """The seeds' worked examples, through real sale orders.

    ======  ========  ======  =========  ==============
    order   inflow    points  price      fund / supply
    ======  ========  ======  =========  ==============
    1000    300       210     1.4286     300 / 210
    1000    300       147     1.6807     600 / 357
    1000    300       124.95  1.8674     900 / 481.95
    ======  ========  ======  =========  ==============
    """

    def test_three_orders_mint_seed_points_and_prices(self):
        expected = [
            (210.0, 1.4286, "alice"),
            (147.0, 1.6807, "bob"),
            (124.95, 1.8674, "carol"),
        ]
        for points, price, name in expected:
            partner = getattr(self, name)
            order, invoice = self._buy(partner)
            lot = order.points_lot_ids
            self.assertEqual(lot.state, "open")
            self.assertEqual(lot.inflow, 300.0)
            self.assertEqual(lot.basis, 1000.0)
            self.assertEqual(lot.cap, 3000.0)
            self.assertEqual(lot.minted, points)
            self.assertEqual(self._member(partner).points_held, points)
            self.assertEqual(round(self.pool.price, 4), price)
            self.assertEqual(order.points_minted, points)
        self.assertEqual(self.pool.fund, 900.0)
        self.assertEqual(self.pool.supply, 481.95)
        first = self.alice and self._member(self.alice).lot_ids
        self.assertEqual(round(first.trigger_price, 4), 14.2857)
        ledger = self.env["points.pool.move"].search(
            [("pool_id", "=", self.pool.id)], order="number"
        )
        self.assertEqual(ledger.mapped("kind"), ["pending", "mint"] * 3)
        self.assertEqual(ledger.mapped("number"), list(range(1, 7)))
        self.assertPoolReconciles()

    def test_pending_until_the_return_window_closes(self):
        self.pool.return_window_days = 7
        order, invoice = self._buy(self.alice)
        lot = order.points_lot_ids
        self.assertEqual(lot.state, "pending")
        self.assertEqual(self.pool.supply, 0.0)
        self.assertEqual(self.pool.pending, 300.0)
        self.assertEqual(self._gl(self.pool.pending_account_id), 300.0)
        self.assertEqual(self._gl(self.pool.contra_account_id), -300.0)
        # a week later the job mints
        later = lot.settle_date
        self.pool._settle_due(now=later)
        self.assertEqual(lot.state, "open")
        self.assertEqual(lot.minted, 210.0)
        self.assertEqual(self.pool.pending, 0.0)
        self.assertEqual(self._gl(self.pool.pending_account_id), 0.0)
        self.assertEqual(self._gl(self.pool.pool_account_id), 300.0)
        self.assertEqual(-self._gl(self.pool.custody_account_id), 300.0)
        self.assertPoolReconciles()

    def test_first_lot_exits_at_three_times(self):
        order, _invoice = self._buy(self.alice)
        lot = order.points_lot_ids
        # fund 300 / supply 210: inject until price = 3000 / 210 (fund 3000)
        self.pool._inject(2699.99)
        self.assertEqual(lot.state, "open", "one cent short of the trigger")
        lines = self.pool._inject(0.01)
        self.assertEqual(lines.mapped("kind"), ["inject", "exit", "dormancy"])
        self.assertEqual(lot.state, "exited")
        member = self._member(self.alice)
        self.assertEqual(member.wallet_balance, 2400.0)  # 80% of 3000
        self.assertEqual(member.points_held, 0.0)
        self.assertEqual(self.pool.supply, 0.0)
        self.assertEqual(self.pool.reserve, 600.0)
        self.assertEqual(self.pool.fund, 0.0)
        self.assertPoolReconciles()
        # re-entry: a new order opens a new lot at the last price
        order2, _invoice = self._buy(self.alice)
        self.assertEqual(order2.points_lot_ids.state, "open")
        self.assertEqual(order2.points_lot_ids.minted, round(210 / (3000 / 210), 4))
        self.assertEqual(
            self.pool.reserve, 570.0, "10% of the inflow leaves the reserve"
        )
        self.assertPoolReconciles()

    def test_sell_210_points_worth_2000(self):
        order, _invoice = self._buy(self.alice)
        self._buy(self.bob)
        # fund 600 / supply 357; bring the price to 2000/210 = 9.5238...: fund = 3400
        self.pool._inject(2800.0)
        member = self._member(self.alice)
        self.assertEqual(member.value, 2000.0)
        line = self._sell_line(member, 210)
        self.assertEqual(line.kind, "sell")
        self.assertEqual(line.wallet, 1600.0)
        self.assertEqual(line.gross, 2000.0)
        self.assertEqual(member.wallet_balance, 1600.0)
        self.assertEqual(self.pool.fund, 3400.0 - 1600.0, "400 stays in the fund")
        self.assertEqual(self.pool.supply, 147.0)
        self.assertEqual(order.points_lot_ids.state, "closed")
        self.assertGreaterEqual(line.price_after, line.price_before)
        self.assertEqual(line.account_move_id.state, "posted")
        self.assertPoolReconciles()

    def test_local_life_split_is_configuration(self):
        """Store take 20% = 2% platform + 2% referral + 16% pool; exit at 1.2x."""
        self.pool.write({"contribution_rate": 16.0, "exit_multiple": 1.2})
        order, _invoice = self._buy(self.alice)
        lot = order.points_lot_ids
        self.assertEqual(lot.inflow, 160.0)
        self.assertEqual(lot.minted, 112.0)
        self.assertEqual(round(lot.trigger_price, 4), 10.7143)
        self.pool._inject(1200.0 - 160.0)
        self.assertEqual(lot.state, "exited")
        self.assertEqual(self._member(self.alice).wallet_balance, 960.0)
        self.assertPoolReconciles()

    def test_product_and_category_rates_override_the_pool(self):
        category = self.env["product.category"].create(
            {
                "name": "Local life",
                "points_pool_rate_set": True,
                "points_pool_rate": 16.0,
            }
        )
        product = self.env["product.product"].create(
            {
                "name": "Meal voucher",
                "categ_id": category.id,
                "taxes_id": [],
                "invoice_policy": "order",
            }
        )
        order, _invoice = self._buy(self.alice, product=product)
        self.assertEqual(order.points_lot_ids.inflow, 160.0)
        product.points_pool_rate_set = True
        product.points_pool_rate = 10.0
        order, _invoice = self._buy(self.bob, product=product)
        self.assertEqual(order.points_lot_ids.inflow, 100.0)


@tagged("post_install", "-at_install")
class TestPointsPoolRefunds(PointsPoolCommon):
    def test_credit_note_before_settlement_drops_pending(self):
        self.pool.return_window_days = 7
        order, invoice = self._buy(self.alice)
        lot = order.points_lot_ids
        self._refund(invoice)
        self.assertEqual(lot.state, "cancelled")
        self.assertEqual(self.pool.pending, 0.0)
        self.assertEqual(self.pool.supply, 0.0)
        self.pool._settle_due(now=lot.settle_date)
        self.assertEqual(self.pool.supply, 0.0, "a cancelled lot is never minted")
        self.assertPoolReconciles()

    def test_payment_undone_before_settlement_cancels(self):
        self.pool.return_window_days = 7
        order = self._order(self.alice)
        invoice = self._invoice(order)
        payment = self._pay(invoice)
        lot = order.points_lot_ids
        self.assertEqual(
            self.pool.pending, 0.0, "journalized by the next pool operation"
        )
        payment.action_draft()
        self.assertNotIn(invoice.payment_state, ("paid", "in_payment"))
        self.pool._settle_due(now=lot.settle_date)
        self.assertEqual(lot.state, "cancelled")
        self.assertEqual(self.pool.pending, 0.0)
        self.assertEqual(self.pool.supply, 0.0)
        kinds = (
            lot.pool_id.env["points.pool.move"]
            .search([("lot_id", "=", lot.id)])
            .mapped("kind")
        )
        self.assertEqual(sorted(kinds), ["pending", "pending_cancel"])

    def test_partial_credit_note_before_settlement(self):
        self.pool.return_window_days = 7
        order, invoice = self._buy(self.alice)
        lot = order.points_lot_ids
        self._refund(invoice, amount=500.0)
        self.assertEqual(lot.state, "pending")
        self.assertEqual(lot.inflow, 150.0)
        self.assertEqual(lot.basis, 500.0)
        self.assertEqual(lot.cap, 1500.0)
        self.pool._settle_due(now=lot.settle_date)
        self.assertEqual(lot.minted, 105.0)
        self.assertPoolReconciles()

    def test_credit_note_after_settlement_burns_and_keeps_price(self):
        order_a, invoice_a = self._buy(self.alice)
        self._buy(self.bob)
        price_before = self.pool.price_exact
        self._refund(invoice_a, amount=500.0)
        lot = order_a.points_lot_ids
        self.assertEqual(lot.held, 105.0, "half of the 210 units burned")
        refund_line = self.env["points.pool.move"].search(
            [("pool_id", "=", self.pool.id), ("kind", "=", "refund")]
        )
        self.assertEqual(refund_line.points, -105.0)
        # release = min(f * I, floor(burned * p)) = min(150, 105 * 1.6807) = 150
        self.assertEqual(refund_line.gross, 150.0)
        self.assertEqual(self.pool.fund, 450.0)
        self.assertGreaterEqual(self.pool.price_exact, price_before)
        self.assertPoolReconciles()

    def test_refund_after_a_sell_deducts_the_wallet(self):
        order_a, invoice_a = self._buy(self.alice)
        self._buy(self.bob)
        member = self._member(self.alice)
        sell = self._sell_line(member, 210)
        paid = sell.wallet
        self._refund(invoice_a)
        self.assertEqual(member.wallet_balance, 0.0, "the whole payout is owed back")
        self.assertEqual(order_a.points_lot_ids.paid, 0.0)
        self.assertAlmostEqual(paid, 0.8 * 210 * 600 / 357, delta=0.01)
        self.assertPoolReconciles()

    def test_two_half_credit_notes_leave_nothing_of_the_lot(self):
        """Issue 9, finding 1: a 1000 order refunded by two credit notes of 500
        kept 25% of its lot (3.43 points here: held, inflow 75, basis 250, cap
        750). Refunds are shares of the original order."""
        order_a, invoice_a = self._buy(self.alice)
        order_b, _invoice_b = self._buy(self.bob)
        lot = order_a.points_lot_ids
        self._refund(invoice_a, amount=500.0)
        self.assertEqual((lot.held, lot.inflow, lot.basis), (105.0, 150.0, 500.0))
        self._refund(invoice_a, amount=500.0)
        self.assertEqual(
            (lot.held, lot.inflow, lot.basis, lot.cap, lot.state),
            (0.0, 0.0, 0.0, 0.0, "closed"),
        )
        self.assertEqual(lot.refunded_percent, 100.0)
        self.assertEqual(self.pool.supply, order_b.points_lot_ids.held)
        # a third credit note refunds nothing more than the order
        count = self.env["points.pool.move"].search_count([("lot_id", "=", lot.id)])
        self._refund(invoice_a, amount=100.0)
        self.assertEqual(
            self.env["points.pool.move"].search_count([("lot_id", "=", lot.id)]), count
        )
        self.assertPoolReconciles()

    def test_partial_credit_notes_before_settlement_add_up(self):
        self.pool.return_window_days = 7
        order, invoice = self._buy(self.alice)
        lot = order.points_lot_ids
        self._refund(invoice, amount=250.0)
        self._refund(invoice, amount=750.0)
        self.assertEqual((lot.state, lot.inflow, lot.basis), ("cancelled", 0.0, 0.0))
        self.assertEqual(self.pool.pending, 0.0)
        self.assertPoolReconciles()

    def test_refund_debt_is_the_companys_not_the_pools(self):
        """Issue 9, finding 2: when the lot's points were already sold, the
        member's debt was credited to the fund, so a refund raised the price.
        SPEC 2: P + Z = Σ inflows + Σ injections − Σ payouts − Σ releases."""
        order_a, invoice_a = self._buy(self.alice)
        self._buy(self.bob)
        member = self._member(self.alice)
        sell = self._sell_line(member, 210)
        fund, price = self.pool.fund, self.pool.price_exact
        self._refund(invoice_a)
        line = self.env["points.pool.move"].search(
            [("lot_id", "=", order_a.points_lot_ids.id), ("kind", "=", "refund")]
        )
        self.assertEqual(
            (line.points, line.fund, line.wallet), (0.0, 0.0, -sell.wallet)
        )
        self.assertEqual(self.pool.fund, fund, "the debt never enters the pool")
        self.assertEqual(
            self.pool.price_exact, price, "a refund does not raise the price"
        )
        self.assertEqual(member.wallet_balance, 0.0)
        # the recovered debt is the company's: Dr wallet payable / Cr revenue contra
        self.assertRecordValues(
            line.account_move_id.line_ids.sorted("account_id"),
            sorted(
                [
                    {
                        "account_id": self.pool.wallet_account_id.id,
                        "debit": sell.wallet,
                        "credit": 0.0,
                    },
                    {
                        "account_id": self.pool.contra_account_id.id,
                        "debit": 0.0,
                        "credit": sell.wallet,
                    },
                ],
                key=lambda vals: vals["account_id"],
            ),
        )
        moves = self.env["points.pool.move"].search([("pool_id", "=", self.pool.id)])
        inflows = sum(moves.filtered(lambda m: m.kind == "mint").mapped("fund"))
        payouts = sum(
            moves.filtered(lambda m: m.kind in ("sell", "exit")).mapped("wallet")
        )
        releases = sum(moves.filtered(lambda m: m.kind == "refund").mapped("gross"))
        self.assertAlmostEqual(
            self.pool.fund + self.pool.reserve, inflows - payouts - releases, places=2
        )
        self.assertPoolReconciles()

    def test_same_refund_twice_changes_nothing(self):
        order, invoice = self._buy(self.alice)
        self._buy(self.bob)
        refund = self._refund(invoice, amount=500.0)
        state = self.pool.get_pool_state()
        count = self.env["points.pool.move"].search_count(
            [("pool_id", "=", self.pool.id)]
        )
        refund._points_pool_refund()
        refund.button_draft()
        refund.action_post()
        self.assertEqual(self.pool.get_pool_state(), state)
        self.assertEqual(
            self.env["points.pool.move"].search_count([("pool_id", "=", self.pool.id)]),
            count,
        )
        self.assertEqual(order.points_lot_ids.held, 105.0)
        self.assertPoolReconciles()


@tagged("post_install", "-at_install")
class TestPointsPoolBadInput(PointsPoolCommon):
    def _snapshot(self):
        self.env.invalidate_all()
        return (
            self.pool.get_pool_state(),
            self.env["points.pool.move"].search_count([]),
            [
                (m.points_held, m.wallet_balance)
                for m in self.env["points.member"].search([])
            ],
        )

    def test_bad_input_is_refused_and_changes_nothing(self):
        self._buy(self.alice)
        self._buy(self.bob)
        member = self._member(self.alice)
        before = self._snapshot()
        cases = [
            (UserError, lambda: self._sell_line(member, 210.0001), "only 210"),
            (UserError, lambda: self._sell_line(member, 0), "positive"),
            (UserError, lambda: self._sell_line(member, -5), "positive"),
            (UserError, lambda: self.pool._inject(0), "positive"),
            (UserError, lambda: self.pool._inject(-10), "positive"),
            (UserError, lambda: member._request_withdrawal(10), "withdraw"),
            (UserError, lambda: member._request_withdrawal(-1), "positive"),
            (
                ValidationError,
                lambda: self.pool.write({"points_ratio": 120.0}),
                "points ratio",
            ),
            (
                ValidationError,
                lambda: self.pool.write({"retention": 100.0}),
                "retention",
            ),
            (
                ValidationError,
                lambda: self.pool.write({"exit_multiple": 0.5}),
                "exit multiple",
            ),
            (
                UserError,
                lambda: self.pool.write({"initial_price": 2.0}),
                "initial price",
            ),
        ]
        for error, call, text in cases:
            with self.subTest(text=text), self.assertRaises(error) as caught:
                call()
            self.assertIn(text, str(caught.exception))
            self.assertEqual(self._snapshot(), before)

    def test_errors_speak_the_users_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["points_pool"], ["zh_CN"])
        self._buy(self.alice)
        member = self._member(self.alice).with_context(lang="zh_CN")
        with self.assertRaisesRegex(
            UserError, "无法卖出 300.0000 积分：仅有 210.0000 积分可卖出"
        ):
            member._sell(300)
        self.assertEqual(member.points_held, 210.0)

    def test_locked_points_cannot_be_sold(self):
        self.pool.vesting_rate = 10.0
        self._buy(self.alice)
        self._buy(self.bob)
        member = self._member(self.alice)
        self.assertEqual(member.points_locked, 210.0)
        with self.assertRaisesRegex(UserError, "locked"):
            self._sell_line(member, 1)
        self.pool._release_vesting()
        self.assertEqual(member.points_locked, 189.0)
        self.assertEqual(member.points_free, 21.0)
        self.assertEqual(self._sell_line(member, 21).points, -21.0)
        self.assertPoolReconciles()

    def test_pool_entries_cannot_be_reset(self):
        self._buy(self.alice)
        entry = (
            self.env["points.pool.move"]
            .search([("pool_id", "=", self.pool.id), ("kind", "=", "mint")])
            .account_move_id
        )
        self.assertEqual(entry.state, "posted")
        for action in (entry.button_draft, entry.button_cancel):
            with self.assertRaisesRegex(UserError, "cannot be reset"):
                action()
        self.assertEqual(entry.state, "posted")

    def test_reconfirming_an_order_is_refused(self):
        order, _invoice = self._buy(self.alice)
        with self.assertRaises(UserError):
            order.action_confirm()
        self.assertEqual(len(order.points_lot_ids), 1)


@tagged("post_install", "-at_install")
class TestPointsPoolWithdrawals(PointsPoolCommon):
    def _wallet(self, amount):
        """Give Alice ``amount`` in her wallet through a real exit."""
        self._buy(self.alice)
        self._buy(self.bob)
        member = self._member(self.alice)
        self._sell_line(member, 210)
        return member

    def test_withdrawal_cash_and_repurchase_credit(self):
        self.pool.cash_share = 70.0
        member = self._wallet(0)
        wallet = member.wallet_balance
        withdrawal = member._request_withdrawal(100.0)
        self.assertEqual(withdrawal.state, "requested")
        self.assertAlmostEqual(member.wallet_available, wallet - 100.0, places=2)
        withdrawal.action_approve()
        self.assertEqual(withdrawal.state, "approved")
        self.assertEqual(withdrawal.cash_amount, 70.0)
        self.assertEqual(withdrawal.credit_amount, 30.0)
        self.assertEqual(member.wallet_balance, round(wallet - 100.0, 2))
        self.assertEqual(member.credit_balance, 30.0)
        payment = withdrawal.payment_id
        self.assertEqual(payment.amount, 70.0)
        self.assertEqual(payment.payment_type, "outbound")
        self.assertRecordValues(
            payment.move_id.line_ids.filtered(
                lambda line: line.account_id == self.pool.wallet_account_id
            ),
            [{"debit": 70.0, "credit": 0.0, "partner_id": self.alice.id}],
        )
        self.assertEqual(self._gl(self.pool.credit_account_id), 30.0)
        self.assertPoolReconciles()

    def test_second_approval_and_overdraw_are_refused(self):
        member = self._wallet(0)
        withdrawal = member._request_withdrawal(50.0)
        withdrawal.action_approve()
        balance = member.wallet_balance
        with self.assertRaisesRegex(UserError, "Only requested"):
            withdrawal.action_approve()
        self.assertEqual(member.wallet_balance, balance)
        with self.assertRaisesRegex(UserError, "withdraw"):
            member._request_withdrawal(balance + 0.01)
        self.assertPoolReconciles()


@tagged("post_install", "-at_install")
class TestPointsPoolMoneyGuards(PointsPoolCommon):
    """Issue 9: money moves only through the pool's own operations."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="pool_clerk",
            groups="base.group_user,points_pool.points_pool_group_user",
        )

    def _wallet_member(self):
        self._buy(self.alice)
        self._buy(self.bob)
        member = self._member(self.alice)
        self._sell_line(member, 210)
        return member

    def test_pool_user_cannot_write_withdrawal_money(self):
        """Finding 3: a Points Pool / User wrote frozen_state/frozen_amount on a
        withdrawal over RPC and the next commission job released that amount
        into the wallet; amount, state and member were writable too."""
        member = self._wallet_member()
        withdrawal = member._request_withdrawal(100.0)
        withdrawal.action_approve()
        wallet = member.wallet_balance
        as_clerk = withdrawal.with_user(self.clerk)
        for vals in (
            {"frozen_state": "frozen", "frozen_amount": 1000.0},
            {"amount": 5000.0},
            {"state": "requested"},
            {"member_id": self._member(self.bob).id},
            {"cash_amount": 0.0},
        ):
            with self.subTest(vals=vals), self.assertRaises(UserError):
                as_clerk.write(vals)
        # nor create a request for somebody else's wallet
        with self.assertRaisesRegex(UserError, "your own"):
            self.env["points.withdrawal"].with_user(self.clerk).create(
                {"member_id": member.id, "amount": 10.0}
            )
        # a hand-made frozen share (written behind the ORM's back) is reported
        # by the reconciliation and releases nothing: releases follow the
        # withdrawals' own ledger lines
        self.env.cr.execute(
            "UPDATE points_withdrawal SET frozen_state = 'frozen', frozen_amount = 1000 "
            "WHERE id = %s",
            [withdrawal.id],
        )
        self.env.invalidate_all()
        problems = {row["label"] for row in self.pool._check_rows(only_problems=True)}
        self.assertIn("Frozen shares = Σ frozen withdrawals", problems)
        self.env["points.withdrawal"]._release_frozen(self.pool)
        self.assertEqual(member.wallet_balance, wallet, "no money out of thin air")
        self.env.cr.execute(
            "UPDATE points_withdrawal SET frozen_state = NULL, frozen_amount = 0 "
            "WHERE id = %s",
            [withdrawal.id],
        )
        self.env.invalidate_all()
        self.assertPoolReconciles()

    def test_zero_payout_sale_is_refused(self):
        """Finding 8: a sale of 0.0001 points paid 0.00 and left a ledger line
        that was never journalized, so the daily check stayed red forever."""
        self._buy(self.alice)
        member = self._member(self.alice)
        count = self.env["points.pool.move"].search_count([])
        with self.assertRaisesRegex(UserError, "pays nothing"):
            member.action_sell(0.0001)
        self.assertEqual(self.env["points.pool.move"].search_count([]), count)
        self.assertPoolReconciles()

    def test_pool_state_is_not_writable(self):
        """Finding 8: a manager could write the pool's fund, supply and ledger number."""
        self._buy(self.alice)
        state = self.pool.get_pool_state()
        for vals in (
            {"fund": 1e6},
            {"supply": 1.0},
            {"ledger_number": 0},
            {"pending": 0.0},
            {"last_price_exact": "1"},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(UserError, "only"):
                self.pool.write(vals)
        self.assertEqual(self.pool.get_pool_state(), state)

    def test_amounts_must_be_numbers(self):
        """Finding 8: ``true`` and nested lists were accepted as amounts over RPC."""
        member = self._wallet_member()
        count = self.env["points.pool.move"].search_count([])
        withdrawals = self.env["points.withdrawal"].search_count([])
        for bad in (True, [[1]], [1], {"a": 1}, "nan", "1e999", None):
            with self.subTest(bad=bad):
                with self.assertRaisesRegex(UserError, "number"):
                    member.action_sell(bad)
                with self.assertRaisesRegex(UserError, "number|positive"):
                    self.pool.action_inject(bad)
                with self.assertRaisesRegex(UserError, "number|positive"):
                    member.action_request_withdrawal(bad)
        self.assertEqual(self.env["points.pool.move"].search_count([]), count)
        self.assertEqual(self.env["points.withdrawal"].search_count([]), withdrawals)

    def test_retried_calls_book_once(self):
        """Finding 7: a client that timed out and retried action_sell,
        action_request_withdrawal, action_inject or action_approve booked the
        operation again. With the same idempotency key the first result comes
        back and nothing is booked twice."""
        member = self._wallet_member()
        self._buy(self.carol)
        carol = self._member(self.carol)
        held = carol.points_held
        Move = self.env["points.pool.move"]

        first = carol.action_sell(10, idempotency_key="sell-1")
        again = carol.action_sell(10, idempotency_key="sell-1")
        self.assertEqual(first, again)
        self.assertEqual(
            Move.search_count([("member_id", "=", carol.id), ("kind", "=", "sell")]), 1
        )
        self.assertAlmostEqual(carol.points_held, held - 10, places=4)

        injected = self.pool.action_inject(50.0, idempotency_key="inject-1")
        self.assertEqual(
            self.pool.action_inject(50.0, idempotency_key="inject-1"), injected
        )
        self.assertEqual(Move.search_count([("kind", "=", "inject")]), 1)

        request = member.action_request_withdrawal(20.0, idempotency_key="wd-1")
        self.assertEqual(
            member.action_request_withdrawal(20.0, idempotency_key="wd-1"), request
        )
        self.assertEqual(
            self.env["points.withdrawal"].search_count([("member_id", "=", member.id)]),
            1,
        )
        withdrawal = self.env["points.withdrawal"].browse(request["withdrawal_id"])
        self.assertTrue(withdrawal.action_approve(idempotency_key="approve-1"))
        self.assertTrue(withdrawal.action_approve(idempotency_key="approve-1"))
        self.assertEqual(Move.search_count([("withdrawal_id", "=", withdrawal.id)]), 1)
        # keys are forgotten after 90 days (the daily job), not before
        Call = self.env["points.pool.call"]
        old = Call.search([("key", "=", "sell-1")])
        self.env.cr.execute(
            "UPDATE points_pool_call SET create_date = now() - interval '91 days' "
            "WHERE id = %s",
            [old.id],
        )
        self.assertEqual(Call._cron_forget(), 1)
        self.assertFalse(old.exists())
        self.assertEqual(Call.search_count([("key", "=", "inject-1")]), 1)
        # a key names one call: reused for another, it is refused
        with self.assertRaisesRegex(UserError, "already used"):
            carol.action_sell(1, idempotency_key="inject-1")
        # a forgotten key is a new key again
        carol.action_sell(1, idempotency_key="sell-1")
        self.assertEqual(
            self.env["points.pool.call"].search_count([("key", "=", "sell-1")]), 1
        )
        self.assertPoolReconciles()
