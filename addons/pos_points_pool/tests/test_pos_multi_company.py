"""Multi-company consistency of the till's links (issue 12, item 5): a lot or
a commission line of company B cannot point at a POS order of company A
(Odoo raises "Incompatible companies on records"); the same link within
company A is what the sync itself writes."""

from contextlib import closing

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_pos_points_pool import PosPointsCommon

INCOMPATIBLE = "Incompatible companies on records"


@tagged("post_install", "-at_install")
class TestPosMultiCompany(PosPointsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="PP POS multi-company B")[
            "company"
        ]

    def test_pos_order_links(self):
        self.open_new_session()
        order, _data = self._sync([(self.item, 1)])
        lot_a = self._lots(order)
        self.assertEqual(lot_a.pos_order_id, order)
        self.assertEqual(lot_a.company_id, order.company_id)
        # records of company B, made as superuser: the company check holds for
        # the superuser too (it is not a record rule)
        su = self.env(su=True)
        company_b = self.company_b
        pool_b = su["points.pool"]._get_company_pool(company_b)
        member_b = su["points.member"]._get_or_create(
            pool_b, su["res.partner"].create({"name": "POS MC B"})
        )
        Lot = su["points.lot"]
        with self.assertRefused(UserError, INCOMPATIBLE):
            Lot.create(
                {
                    "pool_id": pool_b.id,
                    "member_id": member_b.id,
                    "pos_order_id": order.id,
                }
            )
        lot_b = Lot.create({"pool_id": pool_b.id, "member_id": member_b.id})
        self.assertEqual(lot_b.company_id, company_b)
        with self.assertRefused(UserError, INCOMPATIBLE):
            lot_b.write({"pos_order_id": order.id})
        # commission lines unjournalized would unbalance the pool's check: undone
        with closing(self.env.cr.savepoint()):
            Line = su["points.commission.line"]
            base_b = {
                "company_id": company_b.id,
                "pool_id": pool_b.id,
                "kind": "direct",
                "member_id": member_b.id,
                "lot_id": lot_b.id,
            }
            with self.assertRefused(UserError, INCOMPATIBLE):
                Line.create({**base_b, "pos_order_id": order.id})
            # (a line is immutable: its link is set at creation only)
            line_a = Line.create(
                {
                    "company_id": order.company_id.id,
                    "pool_id": lot_a.pool_id.id,
                    "kind": "direct",
                    "member_id": lot_a.member_id.id,
                    "lot_id": lot_a.id,
                    "pos_order_id": order.id,
                }
            )
            self.assertEqual(line_a.pos_order_id, order)
        self.env.invalidate_all()
