from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    points_pool_id = fields.Many2one("points.pool", compute="_compute_points_pool_id")

    def _compute_points_pool_id(self):
        """The company's pool, if it has one (made by the chart load, the module's
        install or ``points.pool._get_company_pool``; never here)."""
        pools = {
            pool.company_id.id: pool
            for pool in self.env["points.pool"]
            .sudo()
            .with_context(active_test=False)
            .search([("company_id", "in", self.ids)])
        }
        for company in self:
            company.points_pool_id = pools.get(company.id, False)
