from odoo import fields, models


class PointsReferralReassign(models.TransientModel):
    """A manager moves a member (and its team) under another referrer, with a reason."""

    _name = "points.referral.reassign"
    _description = "Re-assign a Referrer"

    node_id = fields.Many2one("points.referral.node", required=True, readonly=True)
    company_id = fields.Many2one(related="node_id.company_id")
    current_parent_id = fields.Many2one(
        related="node_id.parent_id", string="Current referrer"
    )
    parent_id = fields.Many2one(
        "points.referral.node",
        "New referrer",
        domain="[('company_id', '=', company_id), ('id', '!=', node_id)]",
        help="Leave empty to make the member a root of the tree.",
    )
    reason = fields.Text(required=True)

    def action_reassign(self):
        self.ensure_one()
        self.node_id._reassign(self.parent_id, self.reason)
        return {"type": "ir.actions.act_window_close"}
