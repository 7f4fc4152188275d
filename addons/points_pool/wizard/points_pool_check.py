from odoo import api, fields, models


class PointsPoolCheck(models.TransientModel):
    """Reconciliation of a pool with its ledger, its lots and the general ledger."""

    _name = "points.pool.check"
    _description = "Check Points Pool"

    pool_id = fields.Many2one("points.pool", required=True)
    scope = fields.Selection(
        [("all", "Pool and commissions"), ("commission", "Commissions")],
        default="all",
        required=True,
    )
    line_ids = fields.One2many("points.pool.check.line", "check_id")
    is_ok = fields.Boolean(compute="_compute_is_ok")

    @api.model_create_multi
    def create(self, vals_list):
        checks = super().create(vals_list)
        for check in checks:
            check.line_ids = [
                fields.Command.create(row)
                for row in check.pool_id.sudo()._check_rows(scope=check.scope)
            ]
        return checks

    @api.depends("line_ids.ok")
    def _compute_is_ok(self):
        for check in self:
            check.is_ok = all(check.line_ids.mapped("ok"))


class PointsPoolCheckLine(models.TransientModel):
    _name = "points.pool.check.line"
    _description = "Check Points Pool Line"

    check_id = fields.Many2one("points.pool.check", required=True, ondelete="cascade")
    label = fields.Char(required=True)
    expected = fields.Float(digits=(16, 4))
    actual = fields.Float(digits=(16, 4))
    ok = fields.Boolean()
