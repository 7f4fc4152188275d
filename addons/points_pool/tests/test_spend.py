from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestSpendCredit(PointsPoolCommon):
    """Issue 11: repurchase credit (and wallet money) pay invoices: one ledger
    line and one entry per use, reconciled with the invoice; refunds give the
    credit share back once.  tearDown: pool = ledger = GL."""

    def setUp(self):
        super().setUp()
        self.pool.cash_share = 70.0
        self.member = self._credit_of_300()

    def _credit_of_300(self):
        """Alice sells into her wallet (1411.76), withdraws 1000 at 70/30."""
        self._buy(self.alice, 5000.0)
        self._buy(self.bob, 5000.0)
        member = self._member(self.alice)
        self._sell_line(member, member.points_free)
        self.assertGreater(member.wallet_balance, 1000.0)
        withdrawal = member._request_withdrawal(1000.0)
        withdrawal.action_approve()
        self.assertEqual(
            (withdrawal.cash_amount, withdrawal.credit_amount), (700.0, 300.0)
        )
        self.assertEqual(member.credit_balance, 300.0)
        return member

    def _open_invoice(self, amount=500.0, partner=None):
        return self._invoice(self._order(partner or self.alice, amount))

    def _entry_lines(self, ledger_line):
        return [
            (line.account_id, line.debit, line.credit, line.partner_id)
            for line in ledger_line.account_move_id.line_ids.sorted("debit")
        ]

    def test_credit_then_cash_pays_the_invoice_and_earns_on_the_cash(self):
        invoice = self._open_invoice(500.0)
        result = invoice.action_points_pay(300.0)
        self.assertEqual(result["amount"], 300.0)
        self.assertEqual(result["residual"], 200.0)
        line = self.env["points.pool.move"].browse(result["ledger_id"])
        self.assertEqual((line.kind, line.credit, line.wallet), ("spend", -300.0, 0.0))
        self.assertEqual((line.res_model, line.res_id), ("account.move", invoice.id))
        self.assertEqual(line.account_move_id.state, "posted")
        receivable = invoice.line_ids.filtered(
            lambda aml: aml.account_type == "asset_receivable"
        ).account_id
        self.assertEqual(
            self._entry_lines(line),
            [
                (receivable, 0.0, 300.0, self.alice),
                (self.pool.credit_account_id, 300.0, 0.0, self.alice),
            ],
        )
        # the entry's receivable line is reconciled with the invoice
        self.assertTrue(line.account_move_id.line_ids.filtered("credit").reconciled)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(self.member.credit_balance, 0.0)
        self.assertEqual(self._gl(self.pool.credit_account_id), 0.0)
        self.assertFalse(invoice.points_lot_ids)  # not paid yet: nothing earned
        self._pay(invoice)  # the 200 in cash
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.points_spent, 300.0)
        # documented rule (default): points on the part paid otherwise only
        lot = invoice.points_lot_ids
        self.assertEqual((lot.basis, lot.inflow), (200.0, 60.0))
        self.assertEqual(
            (self.member.credit_granted, self.member.credit_spent), (300.0, 300.0)
        )
        self.assertPoolReconciles()

    def test_the_whole_order_earns_when_the_pool_says_so(self):
        self.pool.credit_earns = "all"
        invoice = self._open_invoice(500.0)
        invoice.action_points_pay(300.0)
        self._pay(invoice)
        self.assertEqual(
            (invoice.points_lot_ids.basis, invoice.points_lot_ids.inflow),
            (500.0, 150.0),
        )

    def test_credit_alone_pays_the_invoice_in_full(self):
        invoice = self._open_invoice(300.0)
        result = invoice.action_points_pay(300.0)
        self.assertEqual(result["payment_state"], invoice.payment_state)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # paid by credit only: nothing paid otherwise earns (default rule)
        self.assertEqual(invoice.points_lot_ids.basis, 0.0)

    def test_half_refund_returns_half_of_the_credit_once(self):
        invoice = self._open_invoice(500.0)
        invoice.action_points_pay(300.0)
        self._pay(invoice)
        lot = invoice.points_lot_ids
        refund = self._refund(invoice, 250.0)
        returned = self.env["points.pool.move"].search(
            [("kind", "=", "spend_refund"), ("res_id", "=", invoice.id)]
        )
        self.assertEqual((returned.credit, returned.gross), (150.0, 150.0))
        self.assertEqual(self.member.credit_balance, 150.0)
        self.assertEqual(self.member.credit_returned, 150.0)
        # the credit note: 150 settled by the credit given back, 100 left to
        # refund in cash
        self.assertEqual(refund.amount_residual, 100.0)
        self.assertEqual(invoice.points_spent, 150.0)
        self.assertEqual(lot.refunded_share, "1/2")
        # processing the queue again returns nothing more
        refund.points_refund_pending = True
        self.pool._process_refund_queue()
        self.assertEqual(self.member.credit_balance, 150.0)
        self.assertEqual(
            self.env["points.pool.move"].search_count(
                [("kind", "=", "spend_refund"), ("res_id", "=", invoice.id)]
            ),
            1,
        )
        # the rest refunded: the other 150 comes back, no more
        self._refund(invoice, 250.0)
        self.assertEqual(self.member.credit_balance, 300.0)
        self.assertEqual(invoice.points_spent, 0.0)
        self.assertPoolReconciles()

    def test_bad_uses_are_refused_and_change_nothing(self):
        invoice = self._open_invoice(500.0)
        bob_invoice = self._open_invoice(500.0, partner=self.bob)
        clerk = new_test_user(
            self.env,
            "pp_spend_clerk",
            groups="base.group_user",
            company_id=self.env.company.id,
        )
        cases = [
            (
                UserError,
                lambda: invoice.action_points_pay(400.0),
                "only .*300.00 is available",
            ),
            (UserError, lambda: invoice.action_points_pay(-5.0), "positive"),
            (UserError, lambda: invoice.action_points_pay(0), "positive"),
            (UserError, lambda: invoice.action_points_pay("x"), "number"),
            (UserError, lambda: invoice.action_points_pay(10.0, "wallet"), "wallet"),
            # Bob's invoice spends Bob's credit (none), never Alice's
            (
                UserError,
                lambda: bob_invoice.action_points_pay(10.0),
                "not a member|only",
            ),
            (
                AccessError,
                lambda: invoice.with_user(clerk).action_points_pay(10.0),
                "invoicing users",
            ),
        ]
        before = (
            self.member.credit_balance,
            invoice.amount_residual,
            self.pool.ledger_number,
        )
        for error, call, text in cases:
            with self.subTest(text=text), self.assertRaisesRegex(error, text):
                with self.env.cr.savepoint():
                    call()
            self.member.invalidate_recordset()
            invoice.invalidate_recordset()
            self.assertEqual(
                (
                    self.member.credit_balance,
                    invoice.amount_residual,
                    self.pool.ledger_number,
                ),
                before,
            )

    def test_more_than_due_is_refused(self):
        invoice = self._open_invoice(100.0)
        with self.assertRaisesRegex(UserError, "only .*100.00.* is left to pay"):
            invoice.action_points_pay(150.0)
        self.assertEqual(self.member.credit_balance, 300.0)

    def test_wallet_money_pays_when_the_pool_allows_it(self):
        self.pool.wallet_payments = True
        wallet = self.member.wallet_balance
        invoice = self._open_invoice(100.0)
        result = invoice.action_points_pay(100.0, "wallet")
        line = self.env["points.pool.move"].browse(result["ledger_id"])
        self.assertEqual((line.wallet, line.credit), (-100.0, 0.0))
        self.assertAlmostEqual(self.member.wallet_balance, wallet - 100.0, places=2)
        self.assertEqual(self.member.credit_balance, 300.0)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertPoolReconciles()

    def test_a_retried_key_pays_once(self):
        invoice = self._open_invoice(500.0)
        first = invoice.action_points_pay(100.0, idempotency_key="pay-1")
        again = invoice.action_points_pay(100.0, idempotency_key="pay-1")
        self.assertEqual(first, again)
        self.assertEqual(self.member.credit_balance, 200.0)
        self.assertEqual(invoice.amount_residual, 400.0)

    def test_the_back_office_wizard(self):
        invoice = self._open_invoice(500.0)
        self.assertTrue(invoice.points_can_pay)
        wizard = (
            self.env["points.pool.pay"]
            .with_context(active_id=invoice.id, active_model="account.move")
            .create({})
        )
        self.assertEqual(wizard.member_id, self.member)
        self.assertEqual((wizard.available, wizard.amount), (300.0, 300.0))
        self.assertEqual(wizard.left_to_pay, 200.0)
        wizard.action_pay()
        self.assertEqual(invoice.amount_residual, 200.0)
        self.assertEqual(self.member.credit_balance, 0.0)

    def test_refusal_speaks_the_users_language(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["points_pool"], ["zh_CN"])
        invoice = self._open_invoice(500.0).with_context(lang="zh_CN")
        with self.assertRaisesRegex(UserError, "无法支付 .*400.00：仅有 .*300.00 可用"):
            invoice.action_points_pay(400.0)
        self.assertEqual(self.member.credit_balance, 300.0)
