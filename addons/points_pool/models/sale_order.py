from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    points_lot_ids = fields.One2many(
        "points.lot", "sale_order_id", string="Points lots"
    )
    points_minted = fields.Float(
        "Points earned", digits="Points", compute="_compute_points_minted"
    )

    def _compute_points_minted(self):
        minted = dict(
            self.env["points.lot"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["minted:sum"]
            )
        )
        for order in self:
            order.points_minted = minted.get(order, 0.0)

    def action_open_points_lots(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_lot_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        return action
