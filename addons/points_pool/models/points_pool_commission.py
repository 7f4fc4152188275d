"""The pool's commission settings, accounts, jobs and reconciliation (SPEC 4, 5)."""

from fractions import Fraction

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..core import money
from .points_pool import require_manager

# (field on points.pool, code, name, account_type, reconcile)
COMMISSION_ACCOUNTS = [
    (
        "commission_payable_account_id",
        "291600",
        "Commission payable",
        "liability_current",
        False,
    ),
    (
        "commission_frozen_account_id",
        "291700",
        "Commission payable - frozen",
        "liability_current",
        False,
    ),
    ("dividend_account_id", "291800", "Dividend pool", "liability_current", False),
    (
        "commission_expense_account_id",
        "619200",
        "Commission expense",
        "expense",
        False,
    ),
]


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

    def _setup_accounting(self):
        res = super()._setup_accounting()
        Account = self.env["account.account"].sudo()
        for pool in self:
            company = pool.company_id
            vals = {}
            for field_name, code, name, account_type, reconcile in COMMISSION_ACCOUNTS:
                if pool[field_name]:
                    continue
                account = Account.with_company(company).search(
                    [*Account._check_company_domain(company), ("code", "=", code)],
                    limit=1,
                ) or Account.with_company(company).create(
                    {
                        "code": code,
                        "name": name,
                        "account_type": account_type,
                        "reconcile": reconcile,
                        "company_ids": [Command.set(company.ids)],
                    }
                )
                vals[field_name] = account.id
            if not pool.commission_journal_id:
                Journal = self.env["account.journal"].sudo().with_company(company)
                vals["commission_journal_id"] = (
                    Journal.search(
                        [
                            *Journal._check_company_domain(company),
                            ("code", "=", "PCOMM"),
                        ],
                        limit=1,
                    )
                    or Journal.create(
                        {
                            "name": _("Commissions"),
                            "code": "PCOMM",
                            "type": "general",
                            "company_id": company.id,
                        }
                    )
                ).id
            if vals:
                pool.sudo().write(vals)
        return res

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

    # ------------------------------------------------------------------
    # reconciliation: the commission ledger against the GL
    # ------------------------------------------------------------------
    def _commission_check_rows(self):
        """(label, expected, actual) rows of the commission ledger vs the GL."""
        self.ensure_one()
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT
                  COALESCE(SUM(amount) FILTER (WHERE member_id IS NOT NULL
                      AND state = 'accrued' AND accrual_move_id IS NOT NULL), 0)::text,
                  COALESCE(SUM(CASE WHEN member_id IS NULL THEN amount
                                    WHEN distribution_id IS NOT NULL THEN -amount END)
                      FILTER (WHERE accrual_move_id IS NOT NULL), 0)::text,
                  COALESCE(SUM(amount) FILTER (WHERE distribution_id IS NULL
                      AND accrual_move_id IS NOT NULL), 0)::text,
                  COALESCE(SUM(amount) FILTER (WHERE member_id IS NOT NULL
                      AND state = 'available'), 0)::text,
                  COUNT(*) FILTER (WHERE accrual_move_id IS NULL)
                FROM points_commission_line WHERE pool_id = %s
                """,
                self.id,
            )
        )
        payable, dividend, expense, available, unposted = cr.fetchone()
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(wallet) FILTER (WHERE kind = 'commission'), 0)::text, "
                "COALESCE(SUM(frozen), 0)::text FROM points_pool_move WHERE pool_id = %s",
                self.id,
            )
        )
        ledger_commission, ledger_frozen = cr.fetchone()
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(frozen_balance), 0)::text FROM points_member "
                "WHERE pool_id = %s",
                self.id,
            )
        )
        members_frozen = cr.fetchone()[0]
        f = money.fraction_of
        return [
            (
                _("GL commission payable = accrued commissions"),
                f(payable),
                self._gl_balance(self.commission_payable_account_id),
            ),
            (
                _("GL dividend pool = dividends accrued − distributed"),
                f(dividend),
                self._gl_balance(self.dividend_account_id),
            ),
            (
                _("GL commission expense = Σ commissions"),
                f(expense),
                -self._gl_balance(self.commission_expense_account_id),
            ),
            (
                _("Commissions in wallets = Σ ledger commission lines"),
                f(available),
                f(ledger_commission),
            ),
            (
                _("Frozen withdrawals = Σ ledger"),
                f(members_frozen),
                f(ledger_frozen),
            ),
            (
                _("GL commission payable - frozen = Σ frozen"),
                f(members_frozen),
                self._gl_balance(self.commission_frozen_account_id),
            ),
            (
                _("Commission lines not yet journalized"),
                Fraction(0),
                Fraction(unposted),
            ),
        ]

    def _check_tuples(self, scope="all"):
        rows = super()._check_tuples(scope)
        if scope in ("all", "commission"):
            rows += self._commission_check_rows()
        return rows
