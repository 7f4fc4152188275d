from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

#: fixed referral codes the tour types and scans (static/tests/tours/points_pool_tour.js)
MEMBER_CODE = "TQURK7M9PX"
SCAN_CODE = "TQURK7M9PY"


@tagged("post_install", "-at_install")
class TestPosPointsPoolTour(TestPointOfSaleHttpCommon):
    """The till end to end: find a member by code, sell, print the points,
    refund the sale, scan a referral link (tour ``PosPointsPoolTour``)."""

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
        env["res.partner"].create([{"name": f"A Tour Filler {i:03d}"} for i in range(110)])
        members = env["points.member"]._get_or_create(
            cls.pool, cls.member_partner | cls.scan_partner
        )
        cls.member = members.filtered(lambda m: m.partner_id == cls.member_partner)
        cls.scan_member = members - cls.member
        # the codes are random: fix them so that the tour can type and scan them
        cls.member.referral_node_id.sudo().code = MEMBER_CODE
        cls.scan_member.referral_node_id.sudo().code = SCAN_CODE

    def test_pos_points_pool_tour(self):
        self.assertEqual(self.member.referral_code, MEMBER_CODE)
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("PosPointsPoolTour", login="pos_user")

        session = self.main_pos_config.current_session_id
        orders = self.env["pos.order"].search([("session_id", "=", session.id)])
        sale = orders.filtered(lambda o: o.amount_total > 0)
        refund = orders.filtered(lambda o: o.amount_total < 0)
        self.assertEqual(len(sale), 1, "one sale")
        self.assertEqual(len(refund), 1, "one refund")
        self.assertEqual(sale.partner_id, self.member_partner)
        self.assertEqual(sale.state, "paid")
        self.assertEqual(refund.partner_id, self.member_partner)
        self.assertEqual(refund.lines.refunded_orderline_id.order_id, sale)

        # the sale booked one pending lot, on its untaxed amount
        lot = self.env["points.lot"].sudo().search([("pos_order_id", "=", sale.id)])
        self.assertEqual(len(lot), 1, "exactly one lot for the sale")
        self.assertEqual(lot.state, "pending")
        self.assertEqual(lot.member_id, self.member)
        self.assertEqual(lot.store_id, self.store)
        self.assertAlmostEqual(
            lot.basis, sale.amount_total - sale.amount_tax, places=2
        )

        # the refund was queued (applied after the commit, which a test never
        # reaches: the test cursor drops post-commit hooks); apply it now
        self.assertTrue(refund.points_refund_pending)
        self.pool._process_refund_queue()
        lot.invalidate_recordset()
        self.assertFalse(refund.points_refund_pending)
        self.assertEqual(lot.refunded_percent, 100.0)
