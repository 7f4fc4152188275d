from odoo import fields, models


class PointsCommissionLine(models.Model):
    _inherit = "points.commission.line"

    pos_order_id = fields.Many2one(
        "pos.order",
        "POS order",
        readonly=True,
        index="btree_not_null",
        check_company=True,
    )
