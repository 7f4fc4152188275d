from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import money
from ..core.pool import POINT_DIGITS, floor, sell_quote


class PointsPoolSell(models.TransientModel):
    """Sell points into the wallet; shows the payout after retention first."""

    _name = "points.pool.sell"
    _description = "Sell Points"

    member_id = fields.Many2one("points.member", required=True)
    currency_id = fields.Many2one(related="member_id.currency_id")
    points_free = fields.Float(related="member_id.points_free", digits="Points")
    points = fields.Float(digits="Points", required=True)
    price = fields.Float(related="member_id.pool_id.price", digits="Points Price")
    retention = fields.Float(related="member_id.pool_id.retention")
    gross = fields.Monetary(compute="_compute_payout")
    payout = fields.Monetary(compute="_compute_payout")

    @api.depends("points", "member_id")
    def _compute_payout(self):
        for wizard in self:
            pool = wizard.member_id.pool_id
            if not pool or wizard.points <= 0:
                wizard.gross = wizard.payout = 0.0
                continue
            params = pool._get_params()
            price = pool._get_state().price(params)
            units = money.round_minor(wizard.points, POINT_DIGITS)
            gross, payout = sell_quote(units, price, params)
            wizard.gross = money.to_float(floor(gross), params.digits)
            wizard.payout = money.to_float(payout, params.digits)

    def action_sell(self):
        self.ensure_one()
        if self.points <= 0:
            raise UserError(_("The number of points must be positive."))
        # a pool event of its own when the button's transaction is empty
        self.member_id.action_sell(self.points)
        return {"type": "ir.actions.act_window_close"}
