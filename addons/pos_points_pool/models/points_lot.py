from odoo import fields, models


class PointsLot(models.Model):
    _inherit = "points.lot"

    pos_order_id = fields.Many2one(
        "pos.order",
        "POS order",
        index="btree_not_null",
        readonly=True,
        check_company=True,
    )

    def _get_source_links(self):
        return (*super()._get_source_links(), "pos_order_id")
