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


class ResPartner(models.Model):
    _inherit = "res.partner"

    points_member_ids = fields.One2many(
        "points.member", "partner_id", string="Points memberships"
    )
    points_member_count = fields.Integer(compute="_compute_points_member_count")

    def _compute_points_member_count(self):
        counts = dict(
            self.env["points.member"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.points_member_count = counts.get(partner, 0)

    def action_open_points_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_member_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        return action
