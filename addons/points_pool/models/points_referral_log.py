from odoo import fields, models

from .points_referral_node import BIND_SOURCE_SELECTION

LOG_KIND_SELECTION = [
    ("bind", "Binding"),
    ("reassign", "Re-assignment"),
    ("rank", "Rank change"),
]

LOG_SOURCE_SELECTION = [
    *BIND_SOURCE_SELECTION,
    ("package", "Package product"),
    ("volume", "Sales volume rule"),
]


class PointsReferralLog(models.Model):
    """Audit list of bindings, re-assignments and rank changes (never edited)."""

    _name = "points.referral.log"
    _description = "Referral Audit Line"
    _order = "id desc"
    _check_company_auto = True

    node_id = fields.Many2one(
        "points.referral.node", required=True, index=True, ondelete="cascade"
    )
    member_id = fields.Many2one(
        related="node_id.member_id", store=True, string="Membership"
    )
    partner_id = fields.Many2one(related="node_id.partner_id", store=True)
    company_id = fields.Many2one(related="node_id.company_id", store=True, index=True)
    kind = fields.Selection(LOG_KIND_SELECTION, required=True)
    source = fields.Selection(LOG_SOURCE_SELECTION, required=True)
    old_parent_id = fields.Many2one(
        "points.referral.node", "Previous referrer", check_company=True
    )
    new_parent_id = fields.Many2one(
        "points.referral.node", "New referrer", check_company=True
    )
    store_id = fields.Many2one("res.partner", "Through store")
    old_rank_id = fields.Many2one("points.rank", "Previous rank", check_company=True)
    new_rank_id = fields.Many2one("points.rank", "New rank", check_company=True)
    reason = fields.Text()
    user_id = fields.Many2one(
        "res.users", "By", default=lambda self: self.env.user, required=True
    )
    create_date = fields.Datetime("Date", readonly=True)
