"""The pool's reconciliation (SPEC 5): pool row = ledger = lots = GL,
member balances and commissions = GL, contiguous numbering."""

from fractions import Fraction

from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import ledger, money
from .points_pool import is_manager


class PointsPool(models.Model):
    _inherit = "points.pool"

    # ------------------------------------------------------------------
    # reconciliation
    # ------------------------------------------------------------------
    def _gl_balance(self, account):
        """Credit balance of ``account`` (liabilities positive), posted moves only."""
        if not account:
            return 0.0
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT COALESCE(SUM(balance), 0)::text FROM account_move_line "
                "WHERE account_id = %s AND company_id = %s AND parent_state = 'posted'",
                account.id,
                self.company_id.id,
            )
        )
        return -money.fraction_of(self.env.cr.fetchone()[0])

    def _check_tuples(self, scope="all"):
        """``(label, expected, actual)`` of the reconciliation: ``scope``
        ``"pool"``, ``"commission"`` or ``"all"`` (both)."""
        self.ensure_one()
        rows = []
        if scope in ("all", "pool"):
            rows += self._pool_check_rows()
        if scope in ("all", "commission"):
            rows += self._commission_check_rows()
        return rows

    def _pool_check_rows(self):
        """(label, expected, actual) rows of the pool: compares the pool row
        with its ledger (Σ deltas), with its lots, and with the general
        ledger; checks the ledger numbering has no gap."""
        self.ensure_one()
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(fund), 0)::text, COALESCE(SUM(reserve), 0)::text, "
                "COALESCE(SUM(pending), 0)::text, COALESCE(SUM(points), 0)::text, "
                "COALESCE(SUM(wallet), 0)::text, COALESCE(SUM(credit), 0)::text, "
                "COUNT(number), COALESCE(MAX(number), 0), COUNT(DISTINCT number) "
                "FROM points_pool_move WHERE pool_id = %s",
                self.id,
            )
        )
        (
            l_fund,
            l_reserve,
            l_pending,
            l_points,
            l_wallet,
            l_credit,
            count,
            top,
            distinct,
        ) = cr.fetchone()
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(held), 0)::text FROM points_lot WHERE pool_id = %s",
                self.id,
            )
        )
        lots_held = cr.fetchone()[0]
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(wallet_balance), 0)::text, "
                "COALESCE(SUM(credit_balance), 0)::text FROM points_member WHERE pool_id = %s",
                self.id,
            )
        )
        m_wallet, m_credit = cr.fetchone()
        cr.execute(
            SQL(
                # a line that moves no money (a vesting release, an exit or
                # refund worth 0.00) has nothing to journalize
                "SELECT COUNT(*) FROM points_pool_move WHERE pool_id = %s "
                "AND account_move_id IS NULL AND kind != ALL(%s) AND %s",
                self.id,
                list(ledger.codes(posted_by=ledger.NOBODY)),
                self.env["points.pool.move"]._needs_entry_sql(),
            )
        )
        unposted = cr.fetchone()[0]
        # withdrawals: what is reserved is what is requested; what is frozen is
        # what the withdrawals' own ledger lines froze and nothing released yet
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(amount) FILTER (WHERE state = 'requested'), 0)::text, "
                "COALESCE(SUM(frozen_amount) FILTER (WHERE frozen_state = 'frozen'), 0)::text "
                "FROM points_withdrawal WHERE pool_id = %s",
                self.id,
            )
        )
        w_requested, w_frozen = cr.fetchone()
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(wallet_reserved), 0)::text FROM points_member "
                "WHERE pool_id = %s",
                self.id,
            )
        )
        m_reserved = cr.fetchone()[0]
        cr.execute(
            SQL(
                "SELECT COALESCE(SUM(frozen), 0)::text FROM points_pool_move WHERE pool_id = %s",
                self.id,
            )
        )
        l_frozen = cr.fetchone()[0]
        f = money.fraction_of
        fund, reserve, pending = f(self.fund), f(self.reserve), f(self.pending)
        rows = [
            (_("Fund = Σ ledger"), fund, f(l_fund)),
            (_("Reserve = Σ ledger"), reserve, f(l_reserve)),
            (_("Pending = Σ ledger"), pending, f(l_pending)),
            (_("Supply = Σ ledger"), f(self.supply), f(l_points)),
            (_("Supply = Σ units held in lots"), f(self.supply), f(lots_held)),
            (_("Wallets = Σ ledger"), f(m_wallet), f(l_wallet)),
            (_("Repurchase credit = Σ ledger"), f(m_credit), f(l_credit)),
            (
                _("Reserved wallets = Σ requested withdrawals"),
                f(w_requested),
                f(m_reserved),
            ),
            (
                _("Frozen shares = Σ frozen withdrawals"),
                f(l_frozen),
                f(w_frozen),
            ),
            (
                _("GL pool liability = fund"),
                fund,
                self._gl_balance(self.pool_account_id),
            ),
            (
                _("GL reserve = dormant reserve"),
                reserve,
                self._gl_balance(self.reserve_account_id),
            ),
            (
                _("GL pending = pending inflow"),
                pending,
                self._gl_balance(self.pending_account_id),
            ),
            (
                _("GL wallet payable = Σ wallets"),
                f(m_wallet),
                self._gl_balance(self.wallet_account_id),
            ),
            (
                _("GL repurchase credit = Σ credit"),
                f(m_credit),
                self._gl_balance(self.credit_account_id),
            ),
            (
                _("GL custody bank = fund + reserve"),
                fund + reserve,
                -self._gl_balance(self.custody_account_id),
            ),
            (
                _("Ledger numbers contiguous (count = last)"),
                Fraction(top),
                Fraction(distinct),
            ),
            (_("Ledger lines not yet journalized"), Fraction(0), Fraction(unposted)),
            (_("Fund ≥ 0"), Fraction(min(fund, 0)), Fraction(0)),
        ]
        return rows

    def get_reconciliation(self):
        """The pool's reconciliation, as plain rows (README "Python / RPC API").

        :return: ``[{"label", "expected", "actual", "ok"}]``: pool row = ledger
            = lots = GL, wallets, credit, frozen shares and commissions = GL,
            ledger numbers contiguous (accountants and pool managers)
        """
        self.ensure_one()
        if not (
            is_manager(self.env)
            or self.env.user.has_group("points_pool.points_pool_group_accountant")
        ):
            raise UserError(
                _("Only accountants and pool managers see the reconciliation.")
            )
        return self.sudo().with_company(self.company_id)._check_rows()

    def _check_rows(self, only_problems=False, scope="all"):
        """Rows of the reconciliation: label, expected, actual, ok.

        ``scope`` ``"all"``: the pool and every check added by other parts
        (commissions); otherwise only those of that part.
        """
        self.ensure_one()
        result = []
        for label, expected, actual in self._check_tuples(scope):
            ok = expected == actual
            if only_problems and ok:
                continue
            result.append(
                {
                    "label": label,
                    "expected": float(expected),
                    "actual": float(actual),
                    "ok": ok,
                }
            )
        return result

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
