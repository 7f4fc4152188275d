from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

from odoo.addons.points_pool.core import money
from odoo.addons.points_pool.core.pool import POINT_DIGITS

#: fixed referral codes the tour types and scans (static/tests/tours/points_pool_tour.js)
MEMBER_CODE = "TQURK7M9PX"
SCAN_CODE = "TQURK7M9PY"


@tagged("post_install", "-at_install")
class TestPosPointsPoolTour(TestPointOfSaleHttpCommon):
    """The till end to end, one session, two consecutive tours; the server
    state is asserted after each of them:

    1. ``PosPointsPoolSellTour``: open the register, find a member by code,
       sell, pay; the receipt prints the points the order screen estimated;
    2. ``PosPointsPoolRefundTour``: refund that sale in full, then scan a
       referral link (it selects the other member).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.groups_id |= env.ref("points_pool.points_pool_group_manager")
        company = cls.main_pos_config.company_id
        cls.pool = env["points.pool"]._get_company_pool(company)
        cls.pool.sudo().write(
            {
                "contribution_rate": 30.0,
                "points_ratio": 70.0,
                "retention": 20.0,
                "exit_multiple": 3.0,
                "return_window_days": 7,
                "cash_share": 100.0,
            }
        )
        cls.store_owner = env["res.partner"].create({"name": "Tour Store Owner"})
        cls.store = (
            env["res.partner"]
            .sudo()
            .create(
                {
                    "name": "Tour Store",
                    "is_points_store": True,
                    "points_store_owner_id": cls.store_owner.id,
                }
            )
        )
        cls.main_pos_config.points_store_id = cls.store
        cls.member_partner, cls.scan_partner = env["res.partner"].create(
            [{"name": "Pool Member Tour"}, {"name": "Pool Member Scan"}]
        )
        # the till loads 100 partners at start (by name): make sure the members
        # are not among them, so that choosing one loads it from the server
        env["res.partner"].create(
            [{"name": f"A Tour Filler {i:03d}"} for i in range(110)]
        )
        members = env["points.member"]._get_or_create(
            cls.pool, cls.member_partner | cls.scan_partner
        )
        cls.member = members.filtered(lambda m: m.partner_id == cls.member_partner)
        cls.scan_member = members - cls.member
        # the codes are random: fix them so that the tour can type and scan them
        cls.member.referral_node_id.sudo().code = MEMBER_CODE
        cls.scan_member.referral_node_id.sudo().code = SCAN_CODE

    def test_pos_points_pool_tour(self):
        env = self.env
        self.assertEqual(self.member.referral_code, MEMBER_CODE)
        self.assertEqual(self.pool.return_window_days, 7)
        product = self.desk_organizer
        self.assertFalse(product.taxes_id)
        price = product.lst_price  # untaxed: no tax
        # what the order earns, as the server displays it, computed before the
        # tour with the till's own RPC (the till shows it, the receipt prints it)
        estimate = (
            env["res.partner"]
            .with_user(self.pos_user)
            .points_pool_pos_estimate(
                self.main_pos_config.id,
                self.member_partner.id,
                [{"product_id": product.id, "qty": 1, "price_subtotal": price}],
            )
        )
        self.assertTrue(estimate["active"])
        self.assertGreater(estimate["points"], 0)
        expected_points = estimate["points_display"]
        # the pool may hold the database's demo lots: compare with its state now
        supply_before, pending_before = self.pool.supply, self.pool.pending
        self.assertFalse(
            env["points.lot"]
            .sudo()
            .search_count([("pool_id", "=", self.pool.id), ("state", "=", "pending")]),
            "no other pending lot (the settlements below would mint it)",
        )

        self.main_pos_config.with_user(self.pos_user).open_ui()
        session = self.main_pos_config.current_session_id
        Order = env["pos.order"]
        member_orders = [
            ("session_id", "=", session.id),
            ("partner_id", "=", self.member_partner.id),
        ]

        # --- 1. the sale -------------------------------------------------
        self.start_pos_tour("PosPointsPoolSellTour", login="pos_user")

        sale = Order.search(member_orders)
        self.assertEqual(len(sale), 1, "exactly one order for the member")
        self.assertEqual(sale.state, "paid")
        self.assertEqual(sale.lines.product_id, product)
        untaxed = sale.amount_total - sale.amount_tax
        self.assertAlmostEqual(untaxed, price, places=2)
        digits = self.pool.currency_id.decimal_places
        lot = env["points.lot"].sudo().search([("pos_order_id", "=", sale.id)])
        self.assertEqual(len(lot), 1, "exactly one lot for the sale")
        self.assertEqual(lot.state, "pending")
        self.assertEqual(lot.member_id, self.member)
        self.assertEqual(lot.store_id, self.store)
        self.assertEqual(lot.minted, 0.0)
        self.assertAlmostEqual(lot.basis, untaxed, places=digits)
        self.assertAlmostEqual(lot.inflow, round(untaxed * 0.30, digits), places=digits)
        self.assertAlmostEqual(
            lot.settle_date,
            lot.date_paid + timedelta(days=7),
            delta=timedelta(seconds=1),
        )
        lines = env["points.pool.move"].sudo().search([("lot_id", "=", lot.id)])
        self.assertEqual(lines.mapped("kind"), ["pending"], "one pending ledger line")
        self.assertEqual(lines.pending, lot.inflow)
        self.assertEqual((lines.res_model, lines.res_id), ("pos.order", sale.id))
        # the till inserts the line unnumbered (no pool lock); the settlement
        # job (hourly) gives it its number and adds it to the pool's pending:
        # nothing is due yet (return window 7 days)
        self.assertEqual(self.pool._settle_due(), 0)
        self.pool.invalidate_recordset()
        lot.invalidate_recordset()
        lines.invalidate_recordset()
        self.assertGreater(lines.number, 0)
        self.assertEqual(lot.state, "pending")
        self.assertAlmostEqual(
            self.pool.pending - pending_before, lot.inflow, places=digits
        )
        self.assertEqual(self.pool.supply, supply_before)
        # the receipt's points (the tour checked that the receipt printed the
        # order screen's estimate) are those the server computes for the lot,
        # and those computed above before the tour
        receipt = Order.with_user(self.pos_user).points_pool_receipt([sale.uuid])[
            sale.uuid
        ]
        self.assertEqual(receipt["state"], "pending")
        self.assertEqual(receipt["points_display"], expected_points)
        units = self.pool._estimate_points(money.round_minor(lot.inflow, digits))
        self.assertEqual(
            self.pool._pos_points_display(units / 10**POINT_DIGITS), expected_points
        )

        # --- 2. the refund, then the scan ------------------------------------
        self.start_pos_tour("PosPointsPoolRefundTour", login="pos_user")

        orders = Order.search(member_orders)
        refund = orders - sale
        self.assertEqual(len(refund), 1, "one refund")
        self.assertEqual(refund.state, "paid")
        self.assertLess(refund.amount_total, 0)
        self.assertEqual(refund.lines.refunded_orderline_id.order_id, sale)
        self.assertEqual(refund.refunded_order_id, sale)
        self.assertFalse(
            env["points.lot"].sudo().search([("pos_order_id", "=", refund.id)]),
            "a refund books no lot",
        )
        # the refund was queued (applied after the commit, which a test never
        # reaches: the test cursor drops post-commit hooks); apply it now
        self.assertTrue(refund.points_refund_pending)
        self.pool._process_refund_queue()
        refund.invalidate_recordset()
        lot.invalidate_recordset()
        self.pool.invalidate_recordset()
        self.assertFalse(refund.points_refund_pending)
        self.assertEqual(lot.refunded_percent, 100.0)
        self.assertEqual(lot.state, "cancelled")  # refunded in full inside the window
        self.assertAlmostEqual(self.pool.pending, pending_before, places=digits)
        # the return window closes: the refunded lot mints nothing
        self.pool._settle_due(now=fields.Datetime.now() + timedelta(days=8))
        lot.invalidate_recordset()
        self.pool.invalidate_recordset()
        self.assertEqual(lot.minted, 0.0)
        self.assertEqual(self.pool.supply, supply_before)
        self.assertAlmostEqual(self.pool.pending, pending_before, places=digits)
        self.assertEqual(sale.points_minted, 0.0)
