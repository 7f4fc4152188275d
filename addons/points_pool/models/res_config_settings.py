from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    points_pool_id = fields.Many2one(
        "points.pool", default=lambda self: self._default_points_pool_id()
    )
    points_pool_active = fields.Boolean(related="points_pool_id.active", readonly=False)
    points_pool_initial_price = fields.Float(
        related="points_pool_id.initial_price", readonly=False
    )
    points_pool_contribution_rate = fields.Float(
        related="points_pool_id.contribution_rate", readonly=False
    )
    points_pool_contribution_base = fields.Selection(
        related="points_pool_id.contribution_base", readonly=False
    )
    points_pool_points_ratio = fields.Float(
        related="points_pool_id.points_ratio", readonly=False
    )
    points_pool_retention = fields.Float(
        related="points_pool_id.retention", readonly=False
    )
    points_pool_exit_multiple = fields.Float(
        related="points_pool_id.exit_multiple", readonly=False
    )
    points_pool_cash_share = fields.Float(
        related="points_pool_id.cash_share", readonly=False
    )
    points_pool_vesting_rate = fields.Float(
        related="points_pool_id.vesting_rate", readonly=False
    )
    points_pool_return_window_days = fields.Integer(
        related="points_pool_id.return_window_days", readonly=False
    )
    points_pool_injection_account = fields.Selection(
        related="points_pool_id.injection_account", readonly=False
    )
    points_pool_referral_cookie_days = fields.Integer(
        related="points_pool_id.referral_cookie_days", readonly=False
    )
    points_pool_compliance_warning = fields.Char(
        related="points_pool_id.compliance_warning"
    )

    def _default_points_pool_id(self):
        """The settings edit the current company's pool: opening them is a first
        use, which makes the pool (and its accounts) if the company has none."""
        return self.env["points.pool"]._get_company_pool(self.env.company)
