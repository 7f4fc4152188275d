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
        # a pool event of its own when the button's transaction is empty
        self.pool_id.action_inject(self.amount)
        return {"type": "ir.actions.act_window_close"}
