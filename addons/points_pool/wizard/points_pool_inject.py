from odoo import fields, models


class PointsPoolInject(models.TransientModel):
    """Platform money into the fund (融资补贴)."""

    _name = "points.pool.inject"
    _description = "Inject Money into the Points Pool"

    pool_id = fields.Many2one("points.pool", required=True)
    currency_id = fields.Many2one(related="pool_id.currency_id")
    amount = fields.Monetary(required=True)

    def action_inject(self):
        self.ensure_one()
        self.pool_id._inject(self.amount)
        return {"type": "ir.actions.act_window_close"}
