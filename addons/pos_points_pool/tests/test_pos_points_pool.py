from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.common import TestPoSCommon

from odoo.addons.points_pool.tests.test_commission import CommissionCommon
from odoo.addons.points_pool.tools.order_flow import register_payment

from ..models.pos_order import PosOrder


class PosPointsCommon(TestPoSCommon, CommissionCommon):
    """A till (the POS test company's basic config) on the seeds' pool: 30 %
    contribution, 70 % points ratio, return window 0; a store on the till.
    After every test the pool reconciles with the general ledger (tearDown)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.basic_config
        cls.owner, cls.recruiter = cls.env["res.partner"].create(
            [{"name": "Store Owner"}, {"name": "Store Recruiter"}]
        )
        cls.store = cls.env["res.partner"].create(
            {
                "name": "Noodle Bar",
                "is_points_store": True,
                "points_store_owner_id": cls.owner.id,
            }
        )
        cls.config.points_store_id = cls.store
        # 100.00 untaxed, no tax: inflow 30.00, 21.00 of points at price 1
        cls.item = cls.create_product("Bowl", cls.categ_basic, 100.0, 40.0)
        cls.member = cls.env["points.member"]._get_or_create(cls.pool, cls.customer)

    def _sync(self, lines, customer=None, uuid=None, payments=None, is_invoiced=False):
        data = self.create_ui_order_data(
            lines,
            customer=self.customer if customer is None else customer,
            payments=payments,
            uuid=uuid,
            is_invoiced=is_invoiced,
        )
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"]), data

    def _refund_data(self, order, qty, uuid=None):
        """What the till sends to refund ``qty`` of the first line of ``order``."""
        line = order.lines[0]
        data = self.create_ui_order_data(
            [(line.product_id, -qty)], customer=order.partner_id, uuid=uuid
        )
        data["lines"][0][2]["refunded_orderline_id"] = line.id
        return data

    def _lots(self, order):
        return self.env["points.lot"].search([("pos_order_id", "=", order.id)])


@tagged("post_install", "-at_install")
class TestPosBooking(PosPointsCommon):
    def test_paid_order_books_once_per_uuid(self):
        """The same order synced twice (a retry, back online) gives one lot
        (odoo#222372, OCA/pos#185)."""
        self.open_new_session()
        order, data = self._sync([(self.item, 2)])
        self.assertEqual(order.state, "paid")
        again = self.env["pos.order"].sync_from_ui([data])
        self.assertEqual(again["pos.order"], [])  # Odoo skips a paid uuid
        self.assertEqual(
            self.env["pos.order"].search_count([("uuid", "=", order.uuid)]), 1
        )
        # even a second pos.order with the same uuid (created concurrently) books nothing
        duplicate = order.copy({"uuid": order.uuid, "state": "draft"})
        duplicate.action_pos_order_paid()
        lots = self.env["points.lot"].search(
            [("source_key", "=", f"pos.order:{order.uuid}")]
        )
        self.assertEqual(len(lots), 1)
        self.assertEqual(lots.pos_order_id, order)
        self.assertEqual((lots.basis, lots.inflow, lots.cap), (200.0, 60.0, 600.0))
        self.assertEqual(lots.store_id, self.store)
        self.assertEqual(lots.units, {str(self.item.id): "2"})
        pending = self.env["points.pool.move"].search([("lot_id", "=", lots.id)])
        self.assertEqual(pending.mapped("kind"), ["pending"])
        self.assertEqual((pending.res_model, pending.res_id), ("pos.order", order.id))
        self.pool._settle_due()
        # u0 = 70 % x 60.00 / 1.00 = 42 points; the fund gets the inflow
        self.assertEqual(lots.minted, 42.0)
        self.assertEqual(self.pool.fund, 60.0)
        self.assertEqual(self.pool.supply, 42.0)
        self.assertAlmostEqual(self.pool.price_exact, 60.0 / 42.0, places=9)
        self.assertEqual(order.points_minted, 42.0)

    def test_orders_without_customer_or_unpaid_earn_nothing(self):
        """Only paid orders of a customer earn (odoo#199108, #214137)."""
        self.open_new_session()
        anonymous, _data = self._sync([(self.item, 1)], customer=False)
        self.assertFalse(self._lots(anonymous))
        data = self.create_ui_order_data([(self.item, 1)], customer=self.customer)
        data.update(state="draft", payment_ids=[], amount_paid=0)
        draft = self.env["pos.order"].browse(
            self.env["pos.order"].sync_from_ui([data])["pos.order"][0]["id"]
        )
        self.assertEqual(draft.state, "draft")
        self.assertFalse(self._lots(draft))
        self.assertEqual(self.pool.pending, 0.0)

    def test_offline_order_synced_after_its_session_closed(self):
        """An order paid offline and synced after the session was closed is
        booked (odoo#270532): the rescue session takes it, the pool too."""
        session = self.open_new_session()
        data = self.create_ui_order_data([(self.item, 1)], customer=self.customer)
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        self.open_new_session()  # the next day: the order reaches the server now
        result = self.env["pos.order"].sync_from_ui([data])
        order = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        self.assertNotEqual(order.session_id, session)
        lot = self._lots(order)
        self.assertEqual((lot.basis, lot.inflow), (100.0, 30.0))
        self.pool._settle_due()
        self.assertEqual(lot.minted, 21.0)

    def test_pay_later_earns_when_the_invoice_is_paid(self):
        """A "customer account" amount earns only once actually paid."""
        self.open_new_session()
        order, _data = self._sync(
            [(self.item, 2)],
            payments=[(self.cash_pm1, 50.0), (self.pay_later_pm, 150.0)],
            is_invoiced=True,
        )
        lot = self._lots(order)
        # 50 of 200 paid at the till: a quarter of the order
        self.assertEqual(
            (lot.basis, lot.inflow, lot.source_key),
            (50.0, 15.0, f"pos.order:{order.uuid}"),
        )
        invoice = order.account_move
        self.assertTrue(invoice)
        self.assertNotEqual(invoice.payment_state, "paid")
        register_payment(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        lots = self._lots(order)
        self.assertEqual(len(lots), 2)
        later = lots.filtered(lambda lot: lot.source_key.endswith("/later"))
        self.assertEqual((later.basis, later.inflow), (150.0, 45.0))
        # the POS invoice is not booked a second time by the sale source
        self.assertFalse(
            self.env["points.lot"].search([("invoice_id", "=", invoice.id)])
        )
        self.assertEqual(sum(lots.mapped("basis")), 200.0)

    def test_invoiced_order_is_counted_once(self):
        self.open_new_session()
        order, _data = self._sync([(self.item, 1)], is_invoiced=True)
        self.assertIn(order.account_move.payment_state, ("paid", "in_payment"))
        lots = self.env["points.lot"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(lots), 1)
        self.assertEqual(lots.pos_order_id, order)

    def test_new_customer_is_bound_to_the_store_owner(self):
        """SPEC 3: a customer who joins at the till is the store owner's."""
        self._members(self.owner)
        newcomer = self.env["res.partner"].create({"name": "Walk-in"})
        self.open_new_session()
        order, _data = self._sync([(self.item, 1)], customer=newcomer)
        node = self._member(newcomer).referral_node_id
        self.assertEqual(node.parent_id.partner_id, self.owner)
        self.assertEqual(node.bind_source, "store")
        # a known, unbound member is not re-bound by the till
        self.assertFalse(self.member.referral_node_id.parent_id)
        self._sync([(self.item, 1)])
        self.assertFalse(self.member.referral_node_id.parent_id)
        self.assertTrue(self._lots(order))


@tagged("post_install", "-at_install")
class TestPosRefunds(PosPointsCommon):
    def _sell_two(self):
        self.open_new_session()
        order, _data = self._sync([(self.item, 2)])
        self.pool._settle_due()
        lot = self._lots(order)
        self.assertEqual(lot.minted, 42.0)
        return order, lot

    def _sync_refund(self, order, qty, uuid=None):
        supply = self.pool.supply
        data = self._refund_data(order, qty, uuid=uuid)
        result = self.env["pos.order"].sync_from_ui([data])
        refund = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        self.assertEqual(refund.refunded_order_id, order)
        # the till only queued it (applied right after the commit in production)
        self.assertTrue(refund.points_refund_pending)
        self.assertEqual(self.pool.supply, supply)
        self.pool._process_refund_queue()
        self.assertFalse(refund.points_refund_pending)
        return refund, data

    def test_partial_then_full_refund(self):
        """Refunds reverse the points pro rata of the original order, once
        (odoo#257854, #238806, #212922)."""
        order, lot = self._sell_two()
        refund, data = self._sync_refund(order, 1)
        self.assertEqual(lot.refunded_percent, 50.0)
        self.assertEqual((lot.held, lot.basis, lot.inflow), (21.0, 100.0, 30.0))
        # the same refund synced again and its queue processed again: nothing more
        self.env["pos.order"].sync_from_ui([data])
        refund.points_refund_pending = True
        self.pool._process_refund_queue()
        self.assertEqual(lot.held, 21.0)
        keys = (
            self.env["points.pool.move"]
            .search([("lot_id", "=", lot.id), ("kind", "=", "refund")])
            .mapped("idempotency_key")
        )
        self.assertEqual(keys, [f"refund:pos:{refund.uuid}:{lot.id}"])
        # the second unit: nothing is left of the order
        self._sync_refund(order, 1)
        self.assertEqual(lot.refunded_percent, 100.0)
        self.assertEqual((lot.held, lot.basis, lot.inflow), (0.0, 0.0, 0.0))
        self.assertEqual(self.pool.supply, 0.0)
        # a third refund refunds nothing: never more than the order
        self._sync_refund(order, 1)
        self.assertEqual(lot.held, 0.0)

    def test_exchange_refunds_the_old_and_books_the_new(self):
        """A refund order that also sells (an exchange): the returned unit is
        reversed pro rata, the new line earns like any sale."""
        order, lot = self._sell_two()
        other = self.create_product("Tea", self.categ_basic, 150.0)
        data = self._refund_data(order, 1)
        new_line = self.create_ui_order_data([(other, 1)], customer=self.customer)[
            "lines"
        ][0]
        data["lines"].append(new_line)
        data["payment_ids"] = [
            (
                0,
                0,
                {
                    "amount": 50.0,
                    "name": fields.Datetime.now(),
                    "payment_method_id": self.cash_pm1.id,
                },
            )
        ]
        data.update(amount_total=50.0, amount_paid=50.0)
        exchange = self.env["pos.order"].browse(
            self.env["pos.order"].sync_from_ui([data])["pos.order"][0]["id"]
        )
        self.pool._process_refund_queue()
        self.assertEqual(lot.refunded_percent, 50.0)
        self.assertEqual(lot.held, 21.0)
        new_lot = self._lots(exchange)
        self.assertEqual((new_lot.basis, new_lot.inflow), (150.0, 45.0))
        self.assertEqual(new_lot.units, {str(other.id): "1"})

    def test_refund_before_settlement_and_of_a_late_order(self):
        """A refund inside the return window, of an order synced late."""
        self.pool.return_window_days = 7
        session = self.open_new_session()
        data = self.create_ui_order_data([(self.item, 2)], customer=self.customer)
        session.post_closing_cash_details(0)
        session.close_session_from_ui()
        self.open_new_session()
        order = self.env["pos.order"].browse(
            self.env["pos.order"].sync_from_ui([data])["pos.order"][0]["id"]
        )
        lot = self._lots(order)
        self.assertEqual(lot.state, "pending")
        refund_data = self._refund_data(order, 2)
        refund = self.env["pos.order"].browse(
            self.env["pos.order"].sync_from_ui([refund_data])["pos.order"][0]["id"]
        )
        self.pool._process_refund_queue()
        self.assertEqual(lot.refunded_percent, 100.0)
        self.assertEqual(self.pool.pending, 0.0)
        self.pool._settle_due(now=fields.Datetime.now() + timedelta(days=8))
        self.assertEqual(lot.minted, 0.0)
        self.assertEqual(self.pool.supply, 0.0)
        self.assertFalse(refund.points_refund_pending)

    def test_backend_refund_through_the_payment_wizard(self):
        order, lot = self._sell_two()
        refund = order._refund()
        refund.lines.qty = -1
        refund.lines._onchange_amount_line_all()
        refund._onchange_amount_all()
        payment = (
            self.env["pos.make.payment"]
            .with_context(active_id=refund.id, active_ids=refund.ids)
            .create(
                {"amount": refund.amount_total, "payment_method_id": self.cash_pm1.id}
            )
        )
        payment.check()
        self.assertEqual(refund.state, "paid")
        self.pool._process_refund_queue()
        self.assertEqual(lot.refunded_percent, 50.0)
        self.assertEqual(lot.held, 21.0)


@tagged("post_install", "-at_install")
class TestPosCommissions(PosPointsCommon):
    def test_local_life_case_at_the_till(self):
        """The seeds' local-life case with POS orders: 0.3 % direct and 0.2 %
        indirect of every order a bound customer places at any store, 0.5 % of
        the store's turnover to whoever recruited it; reversed with a refund."""
        top, mid = self._partners("Top", "Mid")
        self._members(top | mid | self.recruiter)
        self._chain(top, mid, self.customer)
        self.store.points_store_recruiter_id = self._member(self.recruiter)
        self._plan(
            [
                {"kind": "direct", "rate": 0.3},
                {"kind": "indirect", "rate": 0.2},
                {"kind": "merchant", "rate": 0.5},
            ]
        )
        self.open_new_session()
        order, _data = self._sync([(self.item, 100)])  # 10 000.00
        lines = order.points_commission_line_ids
        self.assertEqual(
            self._by_partner(lines),
            {
                ("direct", "Mid"): 30.0,
                ("indirect", "Top"): 20.0,
                ("merchant", "Store Recruiter"): 50.0,
            },
        )
        self._post()
        move = lines.accrual_move_id
        self.assertEqual(len(move), 1)
        self.assertEqual(move.state, "posted")
        self.assertIn(order.name, move.ref)
        self.assertEqual(
            self._entry_credits(move, self.pool.commission_payable_account_id),
            {"Mid": 30.0, "Top": 20.0, "Store Recruiter": 50.0},
        )
        # a refund of a fifth of the order takes a fifth of every commission back
        data = self._refund_data(order, 20)
        self.env["pos.order"].sync_from_ui([data])
        self.pool._process_refund_queue()
        self.assertEqual(
            self._by_partner(order.points_commission_line_ids),
            {
                ("direct", "Mid"): 24.0,
                ("indirect", "Top"): 16.0,
                ("merchant", "Store Recruiter"): 40.0,
            },
        )

    def test_session_closing_balances_with_the_pool(self):
        """Closing the session still balances; *Check pool* reconciles (tearDown)."""
        self.open_new_session()
        order, _data = self._sync([(self.item, 3)])
        self._sync_refund = TestPosRefunds._sync_refund.__get__(self)
        self._sync_refund(order, 1)
        session = self.pos_session
        session.post_closing_cash_details(session.cash_register_balance_end)
        session.close_session_from_ui()
        self.assertEqual(session.state, "closed")
        self.assertEqual(session.move_id.state, "posted")
        balance = sum(session.move_id.line_ids.mapped("balance"))
        self.assertAlmostEqual(balance, 0.0, places=2)
        self.pool._settle_due()
        lot = self._lots(order)
        self.assertEqual(lot.held, 42.0)  # 63 minted less a third refunded
        rows = {row["label"]: row for row in self.pool._check_rows()}
        self.assertTrue(all(row["ok"] for row in rows.values()), rows)


@tagged("post_install", "-at_install")
class TestPosTillServices(PosPointsCommon):
    def test_lookup_by_code_link_barcode_phone_and_name(self):
        Partner = self.env["res.partner"]
        self.customer.write({"barcode": "CUST-0001", "phone": "+86 138 0013 8000"})
        code = self.member.referral_code
        for query in (
            code,
            code.lower(),
            f"https://shop.example/r/{code}",
            "CUST-0001",
            "+86 138 0013 8000",
            "0013 8000",
            "Customer 1",
        ):
            found = Partner.points_pool_pos_lookup(query, self.config.id)
            self.assertIn(self.customer.id, [row["id"] for row in found], query)
        row = Partner.points_pool_pos_lookup(code, self.config.id)[0]
        self.assertTrue(row["member"])
        self.assertEqual(row["code"], code)
        self.assertFalse(Partner.points_pool_pos_lookup("", self.config.id))
        # a portal user (or any non-POS user) gets nothing of the members
        portal = self.env["res.users"].create(
            {
                "name": "Portal Peeker",
                "login": "peeker@example.com",
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        with self.assertRaises(AccessError):
            Partner.with_user(portal).points_pool_pos_lookup(code, self.config.id)
        with self.assertRaises(AccessError):
            self.env["pos.order"].with_user(portal).points_pool_receipt(["x"])
        self.assertFalse(
            Partner.points_pool_pos_lookup("no such person zz", self.config.id)
        )

    def test_estimate_is_the_server_core_and_matches_the_booking(self):
        self.open_new_session()
        self._sync([(self.item, 1)])
        self.pool._settle_due()  # the price moves off 1.00
        estimate = self.env["res.partner"].points_pool_pos_estimate(
            self.config.id,
            self.customer.id,
            [{"product_id": self.item.id, "qty": 3, "price_subtotal": 300.0}],
        )
        order, _data = self._sync([(self.item, 3)])
        receipt = self.env["pos.order"].points_pool_receipt([order.uuid])[order.uuid]
        self.assertEqual(receipt["points_display"], estimate["points_display"])
        self.pool._settle_due()
        lot = self._lots(order)
        self.assertAlmostEqual(lot.minted, estimate["points"], places=4)
        receipt = self.env["pos.order"].points_pool_receipt([order.uuid])[order.uuid]
        self.assertEqual(receipt["state"], "open")
        self.assertAlmostEqual(float(receipt["points"]), lot.minted, places=4)
        self.assertTrue(receipt["disclosure"])

    def test_receipt_says_pending_until_the_window_closes(self):
        self.pool.return_window_days = 7
        self.open_new_session()
        order, _data = self._sync([(self.item, 1)])
        receipt = self.env["pos.order"].points_pool_receipt([order.uuid])[order.uuid]
        self.assertEqual(receipt["state"], "pending")
        self.assertTrue(receipt["pending_until"])
        self.assertEqual(receipt["points_display"], "21")  # the estimate at 1.00

    def test_till_speaks_chinese(self):
        """The receipt's lines and the till's errors come in the user's
        language (zh_CN shipped for every string)."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["points_pool", "pos_points_pool"], ["zh_CN"]
        )
        self.open_new_session()
        order, _data = self._sync([(self.item, 1)])
        Order = self.env["pos.order"].with_context(lang="zh_CN")
        receipt = Order.points_pool_receipt([order.uuid])[order.uuid]
        self.assertEqual(
            receipt["disclosure"],
            "积分价值取决于未来的消费：不保本，不是存款，也不是投资。",
        )
        self.assertEqual(receipt["points_display"], "21")
        with self.assertRaisesRegex(ValidationError, "不是积分门店"):
            with self.env.cr.savepoint():
                self.config.with_context(lang="zh_CN").points_store_id = self.customer
        self.assertEqual(self.config.points_store_id, self.store)

    def test_sync_query_budget(self):
        """``sync_from_ui`` of one order for a known member: at most 4 queries
        more than the same sync without the addon (SPEC 2 budget)."""
        self.open_new_session()
        self._sync([(self.item, 1)])  # warm the caches and the member

        def count(book=True):
            data = self.create_ui_order_data([(self.item, 1)], customer=self.customer)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            if book:
                self.env["pos.order"].sync_from_ui([data])
            else:
                with patch.object(
                    PosOrder, "_points_pool_book", lambda self, part: None
                ):
                    self.env["pos.order"].sync_from_ui([data])
            return self.env.cr.sql_log_count - before

        count(), count(False)
        with_addon = min(count() for _i in range(3))
        without = min(count(False) for _i in range(3))
        self.assertLessEqual(with_addon - without, 4, (with_addon, without))
        self.assertGreater(with_addon, without)  # it does book something


@tagged("post_install", "-at_install")
class TestPosStoreConfig(PosPointsCommon):
    def test_only_points_stores_link_a_till(self):
        with self.assertRaisesRegex(ValidationError, "is not a points store"):
            with self.env.cr.savepoint():
                self.config.points_store_id = self.customer
        self.assertEqual(self.config.points_store_id, self.store)
