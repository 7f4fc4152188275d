from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .test_pos_points_pool import PosPointsCommon


@tagged("post_install", "-at_install")
class TestPosCredit(PosPointsCommon):
    """Issue 11: the "Points credit" payment method at the till.  The customer
    holds 300 of repurchase credit (bought 5000, sold, withdrew 1000 at 70 %
    cash); tearDown: pool = ledger = GL."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.credit_pm = cls.env["pos.payment.method"].create(
            {"name": "Points credit", "points_credit": True, "split_transactions": True}
        )
        cls.config.write({"payment_method_ids": [(4, cls.credit_pm.id)]})
        # 250.00, no tax: an order of two is 500.00
        cls.plate = cls.create_product("Plate", cls.categ_basic, 250.0, 100.0)

    def setUp(self):
        super().setUp()
        self.pool.cash_share = 70.0
        self._buy(self.customer, 5000.0)
        self._buy(self.bob, 5000.0)
        self._sell_line(self.member, self.member.points_free)
        withdrawal = self.member._request_withdrawal(1000.0)
        withdrawal.action_approve()
        self.assertEqual(self.member.credit_balance, 300.0)

    def _spends(self, kind="spend"):
        return self.env["points.pool.move"].search(
            [("kind", "=", kind), ("res_model", "=", "pos.order")]
        )

    def _pay_500(self, credit=300.0, uuid=None):
        return self._sync(
            [(self.plate, 2)],
            payments=[(self.credit_pm, credit), (self.cash_pm1, 500.0 - credit)],
            uuid=uuid,
        )

    def _close_session(self):
        session = self.pos_session
        session.post_closing_cash_details(session.cash_register_balance_end)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        self.assertEqual(session.move_id.state, "posted")
        return session

    def _receivable(self, move):
        return move.line_ids.filtered(
            lambda aml: (
                aml.account_type == "asset_receivable"
                and aml.partner_id == self.customer
            )
        )

    def _assert_reconciled(self):
        rows = {row["label"]: row for row in self.pool._check_rows()}
        self.assertTrue(all(row["ok"] for row in rows.values()), rows)

    def test_method_has_no_journal_and_identifies_the_customer(self):
        self.assertEqual(self.credit_pm.type, "pay_later")
        self.assertIn(
            "points_credit",
            self.env["pos.payment.method"]._load_pos_data_fields(self.config.id),
        )
        with self.assertRaisesRegex(ValidationError, "no journal"):
            with self.env.cr.savepoint():
                self.env["pos.payment.method"].create(
                    {"name": "Bad credit", "points_credit": True}
                )

    def test_credit_and_cash_pay_an_order_once(self):
        self.open_new_session()
        info = self.env["pos.order"].points_pool_pos_credit(
            self.config.id, self.customer.id, []
        )
        self.assertEqual((info["member"], info["credit"]), (True, 300.0))
        order, data = self._pay_500()
        self.assertEqual(order.state, "paid")
        line = self._spends()
        self.assertEqual(len(line), 1)
        self.assertEqual(
            (line.credit, line.gross, line.number, line.res_id, line.member_id),
            (-300.0, 300.0, 0, order.id, self.member),
        )
        self.assertEqual(line.idempotency_key, f"spend:pos.order:{order.uuid}")
        self.assertEqual(self.member.credit_balance, 0.0)
        # points on the 200.00 paid otherwise (credit_earns "cash", the default)
        lot = self._lots(order)
        self.assertEqual((lot.basis, lot.inflow), (200.0, 60.0))
        # the same uuid again: nothing more
        self.env["pos.order"].sync_from_ui([data])
        order._points_credit_book()
        self.assertEqual(len(self._spends()), 1)
        self.assertEqual(self.member.credit_balance, 0.0)
        # the next pool event numbers and journalizes it
        self.pool._settle_due()
        self.assertGreater(line.number, 0)
        entry = line.account_move_id
        self.assertEqual(entry.state, "posted")
        credit_line = entry.line_ids.filtered(
            lambda aml: aml.account_id == self.pool.credit_account_id
        )
        self.assertEqual(
            (credit_line.debit, credit_line.partner_id), (300.0, self.customer)
        )
        spent = self._receivable(entry)
        self.assertEqual(spent.credit, 300.0)
        self.assertFalse(spent.reconciled)
        # closing the session debits the customer's receivable: the two net out
        session = self._close_session()
        debit = self._receivable(session.move_id).filtered(
            lambda aml: self.credit_pm.name in aml.name
        )
        self.assertEqual(debit.debit, 300.0)
        self.assertEqual(debit.account_id, spent.account_id)
        self.assertTrue(spent.reconciled)
        self.assertTrue(debit.reconciled)
        self._assert_reconciled()

    def test_session_closed_before_the_pool_event(self):
        """Whichever comes last reconciles: here the pool's journalization."""
        self.open_new_session()
        self._pay_500()
        session = self._close_session()
        debit = self._receivable(session.move_id).filtered(
            lambda aml: self.credit_pm.name in aml.name
        )
        self.assertFalse(debit.reconciled)
        self.pool._settle_due()
        self.assertTrue(debit.reconciled)
        self._assert_reconciled()

    def test_more_than_held_or_no_member_is_refused(self):
        self.open_new_session()
        with self.assertRaisesRegex(UserError, "only .*300.* is available"):
            with self.env.cr.savepoint():
                self._pay_500(credit=400.0, uuid="too-much")
        self.assertFalse(self.env["pos.order"].search([("uuid", "=", "too-much")]))
        self.assertFalse(self._spends())
        self.assertFalse(
            self.env["points.lot"].search([("source_key", "like", "too-much")])
        )
        self.assertEqual(self.member.credit_balance, 300.0)
        stranger = self.env["res.partner"].create({"name": "Not a member"})
        with self.assertRaisesRegex(UserError, "not a member"):
            with self.env.cr.savepoint():
                self._sync(
                    [(self.plate, 1)],
                    customer=stranger,
                    payments=[(self.credit_pm, 250.0)],
                )
        self.assertFalse(self._spends())
        info = self.env["pos.order"].points_pool_pos_credit(
            self.config.id, stranger.id, []
        )
        self.assertFalse(info["member"])

    def test_invoiced_order_paid_with_credit(self):
        """The credit spent pays the order's invoice once journalized."""
        self.open_new_session()
        order, _data = self._sync(
            [(self.plate, 2)],
            payments=[(self.credit_pm, 300.0), (self.cash_pm1, 200.0)],
            is_invoiced=True,
        )
        invoice = order.account_move
        self.assertEqual(invoice.amount_residual, 300.0)
        self.pool._settle_due()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # the credit share earns nothing, now or when the invoice is paid
        self.assertEqual(self._lots(order).mapped("basis"), [200.0])
        self._close_session()
        self._assert_reconciled()

    def test_credit_earns_all(self):
        self.pool.credit_earns = "all"
        self.open_new_session()
        order, _data = self._pay_500()
        lot = self._lots(order)
        self.assertEqual((lot.basis, lot.inflow), (500.0, 150.0))

    def test_half_refund_returns_the_credit_share_once(self):
        self.open_new_session()
        order, _data = self._pay_500()
        self.pool._settle_due()
        line = order.lines[0]
        info = self.env["pos.order"].points_pool_pos_credit(
            self.config.id,
            self.customer.id,
            [{"refunded_orderline_id": line.id, "price_subtotal_incl": -250.0}],
        )
        self.assertEqual((info["credit"], info["refund"]), (0.0, 150.0))

        def refund_data(payments, uuid=None):
            data = self._refund_data(order, 1, uuid=uuid)
            data["payment_ids"] = [
                (
                    0,
                    0,
                    {
                        "amount": amount,
                        "name": fields.Datetime.now(),
                        "payment_method_id": method.id,
                    },
                )
                for method, amount in payments
            ]
            data["amount_paid"] = sum(amount for _m, amount in payments)
            return data

        # all of it in cash: the credit share must go back as credit
        with self.assertRaisesRegex(UserError, "gives back .*150"):
            with self.env.cr.savepoint():
                self.env["pos.order"].sync_from_ui(
                    [refund_data([(self.cash_pm1, -250.0)])]
                )
        self.assertFalse(self._spends("spend_refund"))
        data = refund_data([(self.credit_pm, -150.0), (self.cash_pm1, -100.0)])
        refund = self.env["pos.order"].browse(
            self.env["pos.order"].sync_from_ui([data])["pos.order"][0]["id"]
        )
        back = self._spends("spend_refund")
        self.assertEqual(len(back), 1)
        self.assertEqual(
            (back.credit, back.number, back.res_id, back.idempotency_key),
            (150.0, 0, order.id, f"spend_refund:pos.order:{refund.uuid}"),
        )
        self.assertEqual(self.member.credit_balance, 150.0)
        # again: nothing more
        self.env["pos.order"].sync_from_ui([data])
        refund._points_credit_book()
        self.assertEqual(len(self._spends("spend_refund")), 1)
        self.assertEqual(self.member.credit_balance, 150.0)
        self.pool._process_refund_queue()
        self.pool._settle_due()
        self.assertGreater(back.number, 0)
        session = self._close_session()
        lines = self._receivable(session.move_id).filtered(
            lambda aml: self.credit_pm.name in aml.name
        )
        self.assertEqual(sorted(lines.mapped("balance")), [-150.0, 300.0])
        self.assertTrue(all(lines.mapped("reconciled")))
        self._assert_reconciled()
