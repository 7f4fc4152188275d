"""Dividend pools (分红池, SPEC section 4).

A dividend rule puts a fixed amount or a share of each order into a dividend
pool (Dr commission expense / Cr dividend pool).  Once a month the pool is
shared among ranks (e.g. 30/30/40), equally among a rank's members or weighted
by their own settled sales of the period; each payout is a commission line
(Dr dividend pool / Cr commission payable) that follows the usual lifecycle.
Rounding dust and the share of a rank without members stay in the pool.
"""

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..core import commission as core
from ..core import money
from ..core.pool import LOT_SETTLED
from .points_pool import require_manager

WEIGHTING_SELECTION = [
    ("equal", "Equally among the rank's members"),
    ("volume", "By own settled sales of the period"),
]


class PointsDividendPool(models.Model):
    _name = "points.dividend.pool"
    _description = "Dividend Pool"
    _inherit = ["mail.thread"]
    _order = "company_id, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    weighting = fields.Selection(
        WEIGHTING_SELECTION, required=True, default="equal", tracking=True
    )
    share_ids = fields.One2many(
        "points.dividend.share", "dividend_pool_id", string="Shares by rank"
    )
    distribution_ids = fields.One2many(
        "points.dividend.distribution", "dividend_pool_id", readonly=True
    )
    balance = fields.Monetary(compute="_compute_balance")
    last_distribution_date = fields.Datetime(readonly=True, copy=False)
    active = fields.Boolean(default=True)

    @api.constrains("share_ids")
    def _check_shares(self):
        for pool in self:
            if any(share.share < 0 for share in pool.share_ids):
                raise ValidationError(_("A rank's share cannot be negative."))
            if sum(pool.share_ids.mapped("share")) > 100.0 + 1e-9:
                raise ValidationError(
                    _("The ranks' shares of %s add up to more than 100%%.", pool.name)
                )

    def _get_balance_minor(self):
        """Money in the pool: journalized accruals less distributions (minor)."""
        self.ensure_one()
        self.env["points.commission.line"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT COALESCE(SUM(CASE WHEN member_id IS NULL THEN amount "
                "ELSE -amount END), 0)::text FROM points_commission_line "
                "WHERE dividend_pool_id = %s AND accrual_move_id IS NOT NULL",
                self.id,
            )
        )
        return money.to_minor(
            self.env.cr.fetchone()[0], self.currency_id.decimal_places
        )

    def _compute_balance(self):
        for pool in self:
            pool.balance = money.to_float(
                pool._get_balance_minor() if pool.id else 0,
                pool.currency_id.decimal_places,
            )

    def _get_weights(self, ranks, start, end):
        """``{rank level: {member id: weight}}`` of the current members of the
        ranks: 1 each, or their own settled sales between ``start`` and ``end``."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT r.level, n.member_id,
                       COALESCE((SELECT SUM(l.basis) FROM points_lot l
                                  WHERE l.member_id = n.member_id
                                    AND l.state IN %s
                                    AND l.date_paid >= %s AND l.date_paid < %s), 0)::text
                  FROM points_referral_node n
                  JOIN points_rank r ON r.id = n.rank_id
                 WHERE n.rank_id IN %s AND n.member_id IS NOT NULL
                """,
                LOT_SETTLED,
                start,
                end,
                tuple(ranks.ids),
            )
        )
        digits = self.currency_id.decimal_places
        weights = {}
        for level, member_id, volume in self.env.cr.fetchall():
            weight = 1 if self.weighting == "equal" else money.to_minor(volume, digits)
            weights.setdefault(level, {})[member_id] = weight
        return weights

    def action_distribute(self):
        """Distribute the pool now (a manager; the monthly job does it too)."""
        require_manager(
            self.env, _("Only a points pool manager can distribute a dividend pool.")
        )
        for pool in self:
            pool.sudo()._distribute()
        return True

    def _distribute(self, now=None):
        """Share the balance among the ranks; :return: the distribution."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        pool = self.env["points.pool"].sudo()._get_company_pool(self.company_id)
        Line = self.env["points.commission.line"].sudo()
        Line._post_unposted(pool)
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_dividend_pool WHERE id = %s FOR NO KEY UPDATE",
                self.id,
            )
        )
        amount = max(self._get_balance_minor(), 0)
        start = self.last_distribution_date or (now - relativedelta(months=1))
        digits = self.currency_id.decimal_places
        shares = {
            share.rank_id.level: money.percent(share.share) for share in self.share_ids
        }
        weights = self._get_weights(self.share_ids.rank_id, start, now)
        payouts, kept = core.distribute_dividend(amount, shares, weights)
        distribution = (
            self.env["points.dividend.distribution"]
            .sudo()
            .create(
                {
                    "dividend_pool_id": self.id,
                    "date": now,
                    "period_start": start,
                    "amount": money.to_float(amount - kept, digits),
                    "kept": money.to_float(kept, digits),
                }
            )
        )
        partners = dict(
            self.env["points.member"]
            .sudo()
            .browse(list(payouts))
            .mapped(lambda member: (member.id, member.partner_id.id))
        )
        vals_list = [
            {
                "company_id": self.company_id.id,
                "partner_id": partners[member_id],
                "pool_id": pool.id,
                "kind": core.DIVIDEND,
                "member_id": member_id,
                "amount": money.to_float(value, digits),
                "date_due": now,
                "dividend_pool_id": self.id,
                "distribution_id": distribution.id,
                "detail": _("Dividend %(pool)s", pool=self.name),
                "accrual_key": f"dividend:{distribution.id}:{member_id}",
            }
            for member_id, value in sorted(payouts.items())
            if value > 0
        ]
        lines = Line.create(vals_list)
        lines._post_accruals(ref=_("Dividend distribution - %s", self.name))
        self.last_distribution_date = now
        self.message_post(
            body=_(
                "Distributed %(amount)s to %(count)s members; %(kept)s stays in the pool.",
                amount=self.currency_id.format(distribution.amount),
                count=len(lines),
                kept=self.currency_id.format(distribution.kept),
            )
        )
        return distribution

    @api.model
    def _cron_distribute(self):
        for dividend_pool in self.sudo().search([("active", "=", True)]):
            dividend_pool.with_company(dividend_pool.company_id)._distribute()


class PointsDividendShare(models.Model):
    _name = "points.dividend.share"
    _description = "Dividend Pool Share"
    _order = "dividend_pool_id, share desc"
    _check_company_auto = True

    dividend_pool_id = fields.Many2one(
        "points.dividend.pool", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="dividend_pool_id.company_id", store=True)
    rank_id = fields.Many2one(
        "points.rank",
        required=True,
        ondelete="restrict",
        domain="[('company_id', '=', company_id)]",
        check_company=True,
    )
    share = fields.Float("Share (%)", digits=(16, 4), required=True)

    _sql_constraints = [
        ("rank_unique", "UNIQUE(dividend_pool_id, rank_id)", "A rank has one share."),
    ]


class PointsDividendDistribution(models.Model):
    _name = "points.dividend.distribution"
    _description = "Dividend Distribution"
    _order = "date desc, id desc"
    _check_company_auto = True

    dividend_pool_id = fields.Many2one(
        "points.dividend.pool", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(related="dividend_pool_id.company_id", store=True)
    currency_id = fields.Many2one(related="dividend_pool_id.currency_id")
    date = fields.Datetime(readonly=True)
    period_start = fields.Datetime(readonly=True)
    amount = fields.Monetary("Distributed", readonly=True)
    kept = fields.Monetary("Kept in the pool", readonly=True)
    line_ids = fields.One2many(
        "points.commission.line", "distribution_id", readonly=True
    )

    def _compute_display_name(self):
        for dist in self:
            dist.display_name = f"{dist.dividend_pool_id.name} {dist.date or ''}"

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("Distributions are part of the books and cannot be deleted."))
