from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    points_pool_id = fields.Many2one("points.pool", compute="_compute_points_pool_id")

    def _compute_points_pool_id(self):
        Pool = self.env["points.pool"]
        for company in self:
            company.points_pool_id = (
                Pool._get_company_pool(company) if company.id else False
            )
