"""The pool's commission settings, accounts, jobs and reconciliation (SPEC 4, 5)."""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .points_pool import require_manager


class PointsPool(models.Model):
    _inherit = "points.pool"

    commission_journal_id = fields.Many2one(
        "account.journal", "Commissions journal", check_company=True
    )
    commission_payable_account_id = fields.Many2one(
        "account.account", "Commission payable", check_company=True
    )
    commission_frozen_account_id = fields.Many2one(
        "account.account", "Commission payable - frozen", check_company=True
    )
    dividend_account_id = fields.Many2one(
        "account.account", "Dividend pool account", check_company=True
    )
    commission_expense_account_id = fields.Many2one(
        "account.account", "Commission expense", check_company=True
    )
    commission_hold_days = fields.Integer(
        "Commission hold (days)",
        default=7,
        tracking=True,
        help="Commissions are credited to the wallet this many days after the order "
        "was paid (at least the return window, so that most refunds come first).",
    )
    freeze_share = fields.Float(
        "Frozen share of withdrawals (%)",
        digits=(16, 4),
        default=0.0,
        tracking=True,
        help="Share of each approved withdrawal kept frozen until the member's "
        "sales conditions hold (the seeds: 20%). 0: nothing is frozen.",
    )
    freeze_direct_orders = fields.Integer(
        "Release after direct members' settled orders",
        default=0,
        tracking=True,
        help="The frozen share is released once the member's direct members placed "
        "this many settled orders in all (never a count of recruits).",
    )
    freeze_own_orders = fields.Integer(
        "Release after own settled orders",
        default=0,
        tracking=True,
        help="... and the member placed this many settled orders.",
    )
    commission_plan_id = fields.Many2one(
        "points.commission.plan", "Active plan", compute="_compute_commission_plan_id"
    )

    @api.constrains(
        "commission_hold_days",
        "freeze_share",
        "freeze_direct_orders",
        "freeze_own_orders",
    )
    def _check_commission_parameters(self):
        for pool in self:
            if pool.commission_hold_days < 0:
                raise ValidationError(_("The commission hold cannot be negative."))
            if not 0 <= pool.freeze_share <= 100:
                raise ValidationError(
                    _("The frozen share must be between 0% and 100%.")
                )
            if pool.freeze_direct_orders < 0 or pool.freeze_own_orders < 0:
                raise ValidationError(_("Order counts cannot be negative."))

    def _compute_commission_plan_id(self):
        Plan = self.env["points.commission.plan"]
        for pool in self:
            pool.commission_plan_id = Plan.browse(
                Plan._get_active_plan_id(pool.company_id.id)
            )

    # ------------------------------------------------------------------
    # jobs
    # ------------------------------------------------------------------
    def _commission_jobs(self, now=None):
        """Journalize accruals, credit what is due, release frozen shares."""
        self.ensure_one()
        Line = self.env["points.commission.line"].sudo()
        Line._post_unposted(self)
        credited = Line._make_available(self, now=now)
        released = self.env["points.withdrawal"].sudo()._release_frozen(self)
        return credited, released

    def _get_checkout_extra(self):
        return dict(
            super()._get_checkout_extra(),
            commission_hold_days=self.commission_hold_days,
        )

    def _commission_jobs_counts(self):
        """:meth:`_commission_jobs` as plain data (it runs apart).

        :return: ``(commission lines credited, withdrawals released)``
        """
        credited, released = self._commission_jobs()
        return credited, len(released)

    @api.model
    def _cron_commissions(self):
        # a pool event of its own per pool (README "Concurrency")
        for pool in self.sudo().search([("active", "=", True)]):
            pool.with_company(pool.company_id)._run_apart(
                "_commission_jobs_counts", force=True
            )

    def action_run_commission_jobs(self):
        self.ensure_one()
        self._check_manager_rights()
        # a pool event of its own, like the hourly job (README "Concurrency")
        self.sudo()._run_apart("_commission_jobs_counts")
        return True

    def _check_manager_rights(self):
        require_manager(self.env, _("Only a points pool manager can do this."))

    def action_check_commissions(self):
        self.ensure_one()
        check = self.env["points.pool.check"].create(
            {"pool_id": self.id, "scope": "commission"}
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Commission reconciliation"),
            "res_model": "points.pool.check",
            "res_id": check.id,
            "view_mode": "form",
            "target": "new",
        }
