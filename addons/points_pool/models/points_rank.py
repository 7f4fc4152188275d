from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

MAX_RANKS = 9


class PointsRank(models.Model):
    """A rank of the company's programme (会员, 合伙人, 联创, 董事 ...).

    Ranks are ordered by ``level`` (1 = lowest, at most 9 per company).  They
    are given by a manager, by a settled package product (flagged in the
    compliance report) or by the rank job on settled sales volume, own and
    team.  No rule counts recruits (SPEC section 6).
    """

    _name = "points.rank"
    _description = "Member Rank"
    _order = "company_id, level"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    level = fields.Integer(
        required=True, default=1, help="1 is the lowest rank; at most 9 per company."
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True)
    min_own_volume = fields.Monetary(
        "Own settled sales at least",
        help="Settled, unrefunded sales of the member's own orders. Leave both "
        "thresholds empty for a rank that is only given by a manager or a package.",
    )
    min_team_volume = fields.Monetary(
        "Team settled sales at least",
        help="Settled, unrefunded sales of the member's whole downline.",
    )
    use_own_volume = fields.Boolean("Own sales rule")
    use_team_volume = fields.Boolean("Team sales rule")
    package_product_ids = fields.Many2many(
        "product.product",
        "points_rank_package_rel",
        "rank_id",
        "product_id",
        string="Package products",
        check_company=True,
        help="Buying one of these (once the order is settled) grants the rank. "
        "The compliance report flags every such product.",
    )
    member_count = fields.Integer(compute="_compute_member_count")

    _sql_constraints = [
        (
            "level_unique",
            "UNIQUE(company_id, level)",
            "Each level is used once per company.",
        ),
    ]

    def _compute_member_count(self):
        counts = dict(
            self.env["points.referral.node"]._read_group(
                [("rank_id", "in", self.ids)], ["rank_id"], ["__count"]
            )
        )
        for rank in self:
            rank.member_count = counts.get(rank, 0)

    @api.constrains("level", "company_id", "active")
    def _check_level(self):
        for rank in self:
            if not 1 <= rank.level <= MAX_RANKS:
                raise ValidationError(
                    _("A rank level is between 1 and %(max)s.", max=MAX_RANKS)
                )
        for company in self.company_id:
            count = self.search_count([("company_id", "=", company.id)])
            if count > MAX_RANKS:
                raise ValidationError(
                    _(
                        "A company has at most %(max)s ranks (%(company)s has %(count)s).",
                        max=MAX_RANKS,
                        company=company.name,
                        count=count,
                    )
                )

    @api.constrains("min_own_volume", "min_team_volume")
    def _check_volume(self):
        for rank in self:
            if rank.min_own_volume < 0 or rank.min_team_volume < 0:
                raise ValidationError(_("Volume thresholds cannot be negative."))

    @api.model
    def _package_ranks(self, companies):
        """The ranks of ``companies`` that a package product grants (SPEC 6:
        ranks must not be sold; the pool banner and the reports flag them)."""
        return self.sudo().search(
            [("company_id", "in", companies.ids), ("package_product_ids", "!=", False)]
        )

    def action_open_members(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "points.referral.node",
            "view_mode": "list,form",
            "domain": [("rank_id", "=", self.id)],
        }
