import json
import logging
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from fractions import Fraction
from functools import partial

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import SUPERUSER_ID, Command, _, api, fields, models, sql_db, tools
from odoo.exceptions import UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.tools import SQL

from ..core import compliance, money
from ..core import order as order_core
from ..core.pool import (
    LOT_OPEN,
    LOT_PENDING,
    POINT_DIGITS,
    Lot,
    LotStore,
    PoolEngine,
    PoolError,
    PoolParams,
    PoolState,
    floor,
)

_logger = logging.getLogger(__name__)

#: an event that runs apart with more ledger lines than this (a cascade of
#: forced exits) has its entry posted by the settlement job, not by its caller
JOURNAL_AFTER_COMMIT_LINES = 50

CONTRIBUTION_BASE_SELECTION = [
    ("untaxed", "Untaxed amount"),
    ("margin", "Margin"),
]

INJECTION_ACCOUNT_SELECTION = [
    ("contra", "Revenue contra"),
    ("expense", "Marketing expense"),
]

# (field on points.pool, code, name, account_type, reconcile)
POOL_ACCOUNTS = [
    ("pool_account_id", "291100", "Points pool liability", "liability_current", False),
    (
        "pending_account_id",
        "291200",
        "Points pool liability - pending",
        "liability_current",
        False,
    ),
    (
        "reserve_account_id",
        "291300",
        "Points pool liability - dormant reserve",
        "liability_current",
        False,
    ),
    (
        "wallet_account_id",
        "291400",
        "Member wallets payable",
        "liability_current",
        True,
    ),
    (
        "credit_account_id",
        "291500",
        "Repurchase credit (contract liability)",
        "liability_current",
        False,
    ),
    (
        "custody_account_id",
        "109100",
        "Points pool custody bank",
        "asset_current",
        False,
    ),
    (
        "contra_account_id",
        "419100",
        "Revenue contra - points pool contribution",
        "income",
        False,
    ),
    (
        "injection_account_id",
        "619100",
        "Points pool marketing expense",
        "expense",
        False,
    ),
]


def _pool_error_message(env, error):
    """Translated text of a core :class:`PoolError`."""
    values = dict(error.values)
    for key in ("points", "free", "locked"):
        if key in values:
            values[key] = money.to_decimal(values[key], POINT_DIGITS)
    messages = {
        "non_positive_points": env._(
            "The number of points must be positive (got %(points)s)."
        ),
        "not_enough_points": env._(
            "You cannot sell %(points)s points: only %(free)s are free to sell "
            "(%(locked)s are still locked)."
        ),
        "non_positive_amount": env._("The amount must be positive."),
        "negative_amount": env._("Amounts cannot be negative."),
        "bad_fraction": env._(
            "The refunded share must be above 0%% and at most 100%%."
        ),
        "lot_cancelled": env._("This order's points were already cancelled."),
        "lot_refunded": env._("This order was already refunded in full."),
        "zero_payout": env._(
            "Selling %(points)s points pays nothing at the current price: sell more points."
        ),
        "lot_not_pending": env._("This lot was already settled."),
        "bad_lots": env._("These lots do not all belong to this member."),
    }
    return messages.get(error.code, error.code) % values


class PointsPool(models.Model):
    """The points pool of one company (SPEC section 2).

    The row is the one serialization point: every event that changes the fund
    or the supply runs inside :meth:`_operation`, which flushes the ORM, locks
    this row with ``SELECT ... FOR NO KEY UPDATE`` (so inserts that only
    reference the pool, like pending lines at payment, never wait for it),
    runs the pure engine and writes
    state, lots, ledger lines and one journal entry.
    """

    _name = "points.pool"
    _description = "Points Pool"
    _inherit = ["mail.thread"]
    _check_company_auto = True

    name = fields.Char(
        required=True, default=lambda self: _("Points Pool"), tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True, tracking=True)

    # parameters (every change is tracked in the chatter)
    initial_price = fields.Float(
        "Initial price",
        digits="Points Price",
        default=1.0,
        required=True,
        tracking=True,
    )
    contribution_rate = fields.Float(
        "Contribution (%)",
        digits=(16, 4),
        default=30.0,
        required=True,
        tracking=True,
        help="Share of each paid order's base that funds the pool. A product or "
        "product category may override it.",
    )
    contribution_base = fields.Selection(
        CONTRIBUTION_BASE_SELECTION, default="untaxed", required=True, tracking=True
    )
    points_ratio = fields.Float(
        "Points ratio (%)",
        digits=(16, 4),
        default=70.0,
        required=True,
        tracking=True,
        help="Share of the inflow that is minted as points at the current price (at most 100%).",
    )
    retention = fields.Float(
        "Sell retention (%)",
        digits=(16, 4),
        default=20.0,
        required=True,
        tracking=True,
        help="Share of a sale's gross value that stays in the pool.",
    )
    exit_multiple = fields.Float(
        "Exit multiple", digits=(16, 4), default=3.0, required=True, tracking=True
    )
    cash_share = fields.Float(
        "Cash share of withdrawals (%)",
        digits=(16, 4),
        default=100.0,
        required=True,
        tracking=True,
        help="The rest of each withdrawal becomes repurchase credit, usable on purchases only.",
    )
    vesting_rate = fields.Float(
        "Daily vesting release (%)",
        digits=(16, 4),
        default=0.0,
        tracking=True,
        help="0: points are tradable at once. Otherwise all minted points start locked "
        "and this share of them is released every day.",
    )
    return_window_days = fields.Integer(
        "Return window (days)",
        default=7,
        tracking=True,
        help="Points are minted when the invoice is paid and this many days have passed "
        "(0: right after payment).",
    )
    injection_account = fields.Selection(
        INJECTION_ACCOUNT_SELECTION, default="expense", required=True, tracking=True
    )
    referral_cookie_days = fields.Integer(
        "Referral link valid (days)",
        default=30,
        tracking=True,
        help="How long a visited referral link is remembered before signup or the "
        "first order.",
    )

    # state, written only by _operation under the row lock
    fund = fields.Monetary(readonly=True, copy=False, currency_field="currency_id")
    supply = fields.Float(digits="Points", readonly=True, copy=False)
    reserve = fields.Monetary("Dormant reserve", readonly=True, copy=False)
    pending = fields.Monetary("Pending inflow", readonly=True, copy=False)
    last_price = fields.Float(digits=(24, 12), readonly=True, copy=False)
    last_price_exact = fields.Char(
        readonly=True,
        copy=False,
        help="Last price as an exact ratio, used while the supply is 0.",
    )
    ledger_number = fields.Integer(readonly=True, copy=False, default=0)
    price = fields.Float(digits="Points Price", compute="_compute_price")
    price_exact = fields.Float(digits=(24, 12), compute="_compute_price")
    member_count = fields.Integer(compute="_compute_member_count")
    exit_count = fields.Integer(compute="_compute_member_count")

    # accounting
    journal_id = fields.Many2one("account.journal", check_company=True)
    bank_account_id = fields.Many2one(
        "account.account",
        "Operating bank account",
        check_company=True,
        help="Where the company's own money sits; money moves between it and the "
        "custody account as the fund grows or pays out.",
    )
    payment_journal_id = fields.Many2one(
        "account.journal",
        "Withdrawal payment journal",
        domain="[('type', 'in', ('bank', 'cash'))]",
        check_company=True,
    )
    pool_account_id = fields.Many2one(
        "account.account", "Pool liability", check_company=True
    )
    pending_account_id = fields.Many2one(
        "account.account", "Pool pending", check_company=True
    )
    reserve_account_id = fields.Many2one(
        "account.account", "Pool reserve", check_company=True
    )
    wallet_account_id = fields.Many2one(
        "account.account", "Wallet payable", check_company=True
    )
    credit_account_id = fields.Many2one(
        "account.account", "Repurchase credit", check_company=True
    )
    custody_account_id = fields.Many2one(
        "account.account", "Custody bank", check_company=True
    )
    contra_account_id = fields.Many2one(
        "account.account", "Revenue contra", check_company=True
    )
    injection_account_id = fields.Many2one(
        "account.account", "Injection expense", check_company=True
    )
    compliance_warning = fields.Char(compute="_compute_compliance_warning")

    _sql_constraints = [
        ("company_unique", "UNIQUE(company_id)", "A company has one points pool."),
    ]

    # ------------------------------------------------------------------
    # computes and constraints
    # ------------------------------------------------------------------
    @api.depends("fund", "supply", "last_price_exact", "initial_price")
    def _compute_price(self):
        for pool in self:
            price = pool._get_state().price(pool._get_params())
            pool.price_exact = float(price)
            pool.price = float(price)

    def _compute_member_count(self):
        members = dict(
            self.env["points.member"]._read_group(
                [("pool_id", "in", self.ids)], ["pool_id"], ["__count"]
            )
        )
        exits = dict(
            self.env["points.lot"]._read_group(
                [("pool_id", "in", self.ids), ("state", "=", "exited")],
                ["pool_id"],
                ["__count"],
            )
        )
        for pool in self:
            pool.member_count = members.get(pool, 0)
            pool.exit_count = exits.get(pool, 0)

    @api.depends("retention", "exit_multiple")
    def _compute_compliance_warning(self):
        """The banner: :func:`..core.compliance.pool_warnings`, exact."""
        packages = {}
        for rank in self.env["points.rank"]._package_ranks(self.company_id):
            packages[rank.company_id] = (
                packages.get(rank.company_id, rank.browse()) | rank
            )
        Plan = self.env["points.commission.plan"]
        for pool in self:
            warnings = []
            for code, values in compliance.pool_warnings(
                money.fraction_of(pool.retention or 0) / 100,
                money.fraction_of(pool.exit_multiple or 0),
                packages.get(pool.company_id, ()),
            ):
                if code == compliance.STATIC_RETURN:
                    # the banner's own, shorter sentence (the reports give the formula)
                    warnings.append(
                        _(
                            "A member who is forced out receives %(ratio).2f times the "
                            "amount spent: the return looks guaranteed. The seeds advise "
                            "1.2x at 80%%.",
                            ratio=float(values["ratio"]),
                        )
                    )
                else:  # the same text as the plan and compliance reports
                    warnings += Plan._warning_texts([(code, values)])
            pool.compliance_warning = " ".join(warnings) or False

    @api.constrains(
        "initial_price",
        "contribution_rate",
        "points_ratio",
        "retention",
        "exit_multiple",
        "cash_share",
        "vesting_rate",
        "return_window_days",
        "referral_cookie_days",
    )
    def _check_parameters(self):
        for pool in self:
            if pool.referral_cookie_days < 1:
                raise ValidationError(
                    _("A referral link is remembered for at least one day.")
                )
            if not 0 <= pool.contribution_rate <= 100:
                raise ValidationError(
                    _("The contribution must be between 0% and 100%.")
                )
            if not 0 <= pool.cash_share <= 100:
                raise ValidationError(_("The cash share must be between 0% and 100%."))
            if pool.return_window_days < 0:
                raise ValidationError(_("The return window cannot be negative."))
            labels = {
                "initial_price": _("The initial price must be positive."),
                "points_ratio": _(
                    "The points ratio must be above 0% and at most 100%."
                ),
                "retention": _(
                    "The sell retention must be at least 0% and below 100%."
                ),
                "exit_multiple": _("The exit multiple must be at least 1."),
                "vesting_rate": _(
                    "The daily vesting release must be between 0% and 100%."
                ),
            }
            for code, _values in pool._get_params().errors():
                raise ValidationError(labels.get(code, code))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        pools = super().create(vals_list)
        self.env.registry.clear_cache()  # _get_checkout_config
        pools._setup_accounting()
        return pools

    #: the pool's state: written only by the engine (SQL, under the row lock)
    _STATE_FIELDS = frozenset(
        {
            "fund",
            "supply",
            "reserve",
            "pending",
            "last_price",
            "last_price_exact",
            "ledger_number",
        }
    )

    def write(self, vals):
        if self._STATE_FIELDS & set(vals):
            raise UserError(
                _(
                    "Fund, supply, reserve, pending inflow, price and ledger number change "
                    "only through pool events (sell, injection, settlement, refund)."
                )
            )
        if set(self._CHECKOUT_FIELDS) & set(vals):
            self.env.registry.clear_cache()  # _get_checkout_config
        guarded = {"initial_price"} & set(vals)
        if guarded and any(pool.ledger_number or pool.supply for pool in self):
            raise UserError(
                _("The initial price cannot change once points have been issued.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        if self.env["points.pool.move"].search_count(
            [("pool_id", "in", self.ids)], limit=1
        ):
            raise UserError(
                _("A pool with ledger lines cannot be deleted; archive it.")
            )

    # ------------------------------------------------------------------
    # accounting set-up
    # ------------------------------------------------------------------
    def _setup_accounting(self):
        """Create the pool's journal and accounts for its company if missing."""
        Account = self.env["account.account"].sudo()
        for pool in self:
            company = pool.company_id
            vals = {}
            for field_name, code, name, account_type, reconcile in POOL_ACCOUNTS:
                if pool[field_name]:
                    continue
                account = Account.with_company(company).search(
                    [*Account._check_company_domain(company), ("code", "=", code)],
                    limit=1,
                )
                if not account:
                    account = Account.with_company(company).create(
                        {
                            "code": code,
                            "name": name,
                            "account_type": account_type,
                            "reconcile": reconcile,
                            "company_ids": [Command.set(company.ids)],
                        }
                    )
                vals[field_name] = account.id
            if not pool.journal_id:
                Journal = self.env["account.journal"].sudo().with_company(company)
                journal = Journal.search(
                    [*Journal._check_company_domain(company), ("code", "=", "PPOOL")],
                    limit=1,
                ) or Journal.create(
                    {
                        "name": _("Points Pool"),
                        "code": "PPOOL",
                        "type": "general",
                        "company_id": company.id,
                    }
                )
                vals["journal_id"] = journal.id
            if vals:
                pool.sudo().write(vals)

    def _get_bank_journal(self):
        self.ensure_one()
        Journal = self.env["account.journal"].sudo()
        return self.payment_journal_id or Journal.search(
            [*Journal._check_company_domain(self.company_id), ("type", "=", "bank")],
            order="sequence, id",
            limit=1,
        )

    def _get_bank_account(self):
        self.ensure_one()
        account = self.bank_account_id or self._get_bank_journal().default_account_id
        if not account:
            raise UserError(
                _(
                    "Set the operating bank account of the points pool of %(company)s "
                    "(Points Pool > Configuration > Pools).",
                    company=self.company_id.name,
                )
            )
        return account

    # ------------------------------------------------------------------
    # translation between records and the core
    # ------------------------------------------------------------------
    def _simulation_snapshot(self):
        """The pool as a :class:`core.simulator.Snapshot` (state, and open or
        pending lots read by the engine's own lot store), for the simulator
        and the compliance report.  Reads the committed and flushed state; no
        lock (a simulation changes nothing)."""
        self.ensure_one()
        from ..core import simulator  # noqa: PLC0415 (the ledger never needs it)

        digits = self.currency_id.decimal_places
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT fund::text, supply::text, reserve::text, last_price_exact "
                "FROM points_pool WHERE id = %s",
                self.id,
            )
        )
        fund, supply, reserve, last_price = self.env.cr.fetchone()
        lots = _SqlLotStore(self)._select(
            SQL("pool_id = %s AND state IN ('open', 'pending') ORDER BY id", self.id)
        )
        return simulator.Snapshot(
            fund=money.to_minor(fund or 0, digits),
            supply=money.to_minor(supply or 0, POINT_DIGITS),
            reserve=money.to_minor(reserve or 0, digits),
            last_price=Fraction(last_price) if last_price else None,
            lots=tuple(lots),
        )

    def _get_params(self):
        self.ensure_one()
        pct = Fraction(100)
        return PoolParams(
            digits=self.currency_id.decimal_places,
            initial_price=money.fraction_of(self.initial_price or 1.0),
            points_ratio=money.fraction_of(self.points_ratio) / pct,
            retention=money.fraction_of(self.retention) / pct,
            exit_multiple=money.fraction_of(self.exit_multiple),
            vesting_rate=money.fraction_of(self.vesting_rate) / pct,
        )

    def _get_state(self):
        """State from the cache (display only; events read it under the lock)."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        return PoolState(
            fund=money.round_minor(self.fund, digits),
            supply=money.round_minor(self.supply, POINT_DIGITS),
            reserve=money.round_minor(self.reserve, digits),
            pending=money.round_minor(self.pending, digits),
            last_price=Fraction(self.last_price_exact)
            if self.last_price_exact
            else None,
        )

    def _lock_state(self):
        """Flush, lock the pool row and read its state exactly (as text)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT fund::text, supply::text, reserve::text, pending::text, "
                "last_price_exact, ledger_number FROM points_pool WHERE id = %s FOR NO KEY UPDATE",
                self.id,
            )
        )
        fund, supply, reserve, pending, last_price, number = self.env.cr.fetchone()
        digits = self.currency_id.decimal_places
        state = PoolState(
            fund=money.to_minor(fund or 0, digits),
            supply=money.to_minor(supply or 0, POINT_DIGITS),
            reserve=money.to_minor(reserve or 0, digits),
            pending=money.to_minor(pending or 0, digits),
            last_price=Fraction(last_price) if last_price else None,
        )
        return state, number or 0

    def _run_apart(self, method, *args, force=False, **kwargs):
        """Run one of this pool's methods as a pool event (see :func:`run_apart`)."""
        return run_apart(self, method, *args, force=force, **kwargs)

    def _call_once(self, key, method, func, lock):
        """Run ``func()`` once per idempotency ``key`` of the current user.

        ``lock()`` takes the row that serializes this kind of call (the pool
        row for pool events, the member row for withdrawal requests); the key
        is looked up after it, so a concurrent call with the same key either
        waits and finds it, or is retried and finds it.  A repeated key returns
        the first call's result (plain data) and books nothing.
        """
        if key in (None, False, ""):
            return func()
        if not isinstance(key, str) or len(key) > 200:
            raise UserError(
                _("An idempotency key is a text of at most 200 characters.")
            )
        lock()
        Call = self.env["points.pool.call"].sudo()
        found = Call.search(
            [("user_id", "=", self.env.uid), ("key", "=", key)], limit=1
        )
        if found:
            if found.method != method:
                raise UserError(
                    _(
                        "The idempotency key %(key)s was already used for another call "
                        "(%(method)s).",
                        key=key,
                        method=found.method,
                    )
                )
            return json.loads(found.result)
        result = func()
        Call.create(
            {
                "key": key,
                "method": method,
                "user_id": self.env.uid,
                "company_id": self.company_id.id,
                "result": json.dumps(result),
            }
        )
        return result

    @contextmanager
    def _operation(self, source=None, date=None):
        """Run pool events under the row lock and persist everything they did.

        Yields the engine; on exit writes state, lots, ledger lines (numbered
        contiguously) and the journal entry.  An exception leaves nothing.
        """
        self.ensure_one()
        if not self.active:
            raise UserError(
                _(
                    "The points pool of %(company)s is not active.",
                    company=self.company_id.name,
                )
            )
        state, number = self._lock_state()
        number, absorbed = self._absorb_pending(state, number, post=False)
        store = _SqlLotStore(self)
        engine = PoolEngine(self._get_params(), state, store)
        engine.idempotency = []
        try:
            yield engine
        except PoolError as error:
            raise UserError(_pool_error_message(self.env, error)) from error
        lines = self._persist(
            engine, number, source=source, date=date, absorbed=absorbed
        )
        engine.ledger_lines = lines

    def _absorb_pending(self, state, number, post=True):
        """Number and journalize the pending lines inserted at payment.

        Payment inserts them without the lock; the first operation after it
        (under the lock) gives them their ledger numbers and adds them to the
        pool's pending inflow.  Their entry is posted here (``post``) or with
        the operation's own entry, so a settlement right after payment posts
        one entry, not two.
        :return: ``(last ledger number, the absorbed lines)``
        """
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT id, pending::text FROM points_pool_move WHERE pool_id = %s AND number = 0 "
                "ORDER BY id",
                self.id,
            )
        )
        rows = cr.fetchall()
        if not rows:
            return number, self.env["points.pool.move"]
        digits = self.currency_id.decimal_places
        added = sum(money.to_minor(pending, digits) for _id, pending in rows)
        state.pending += added
        # the price a line shows is the price when it takes its place in the
        # ledger (pending changes no price), not the price at payment: so the
        # prices along the ledger never go down
        price = self.env["points.pool.move"]._price_label(
            state.price(self._get_params())
        )
        cr.execute(
            SQL(
                "UPDATE points_pool_move AS m SET number = %s + v.n, price_before = %s, "
                "price_after = %s FROM "
                "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM points_pool_move "
                " WHERE id IN %s) AS v WHERE m.id = v.id",
                number,
                price,
                price,
                tuple(row[0] for row in rows),
            )
        )
        cr.execute(
            SQL(
                "UPDATE points_pool SET pending = COALESCE(pending, 0) + %s, ledger_number = %s "
                "WHERE id = %s",
                money.to_decimal(added, digits),
                number + len(rows),
                self.id,
            )
        )
        self.env.invalidate_all()
        lines = self.env["points.pool.move"].sudo().browse([row[0] for row in rows])
        lines.invalidate_recordset(["number"])
        if post:
            self._journalize(lines)
        return number + len(rows), lines

    def _append_ledger(self, vals_list):
        """Append ledger lines of wallet-only events (no engine operation:
        withdrawals, commissions to the wallet, frozen shares released).

        Under the pool lock: numbers them after the last line (pending lines
        first), moves the pool's counter and applies them to the members.
        Posting their entry is the caller's.
        :return: the lines
        """
        self.ensure_one()
        state, number = self._lock_state()
        number, _absorbed = self._absorb_pending(state, number)
        price = self.env["points.pool.move"]._price_label(
            state.price(self._get_params())
        )
        for index, vals in enumerate(vals_list):
            vals.update(
                number=number + index + 1,
                pool_id=self.id,
                company_id=self.company_id.id,
                price_before=price,
                price_after=price,
            )
        lines = self.env["points.pool.move"].sudo().create(vals_list)
        self.env.cr.execute(
            SQL(
                "UPDATE points_pool SET ledger_number = %s WHERE id = %s",
                number + len(lines),
                self.id,
            )
        )
        self.invalidate_recordset(["ledger_number"])
        self.env["points.member"]._apply_ledger(lines)
        return lines

    def _persist(self, engine, number, source=None, date=None, absorbed=None):
        digits = self.currency_id.decimal_places
        state = engine.state
        store = engine.store
        store.flush()
        new_number = number + len(engine.events)
        self.env.cr.execute(
            SQL(
                "UPDATE points_pool SET fund = %s, supply = %s, reserve = %s, pending = %s, "
                "last_price = %s, last_price_exact = %s, ledger_number = %s WHERE id = %s",
                money.to_decimal(state.fund, digits),
                money.to_decimal(state.supply, POINT_DIGITS),
                money.to_decimal(state.reserve, digits),
                money.to_decimal(state.pending, digits),
                money.ceil_decimal(state.last_price)
                if state.last_price is not None
                else None,
                str(state.last_price) if state.last_price is not None else None,
                new_number,
                self.id,
            )
        )
        # stored state changed under the ORM: drop every cached value that depends on it
        self.env.invalidate_all()
        absorbed = absorbed or self.env["points.pool.move"]
        if not engine.events:
            self._journalize(absorbed)
            return self.env["points.pool.move"]
        lines = self._insert_ledger(engine, number, source=source, date=date)
        self._journalize(absorbed | lines)
        self.env.invalidate_all()
        return lines

    def _insert_ledger(self, engine, number, source=None, date=None):
        """Write the engine's events as ledger lines numbered after ``number``
        and apply them to the members' balances: one ``INSERT`` and one
        ``UPDATE`` for any number of events (a cascade of 1,000 exits too).

        :return: the lines, in ledger order
        """
        digits = self.currency_id.decimal_places
        keys = {index: key for index, key in engine.idempotency}
        label = self.env["points.pool.move"]._price_label
        members = {
            lot_id: lot["member_id"] for lot_id, lot in engine.store.records.items()
        }
        rows, deltas = [], {}
        for index, event in enumerate(engine.events):
            member_id = event.member_id or members.get(event.lot_id)
            rows.append(
                SQL(
                    "(%s, %s, %s::int, %s::int, %s::numeric, %s::numeric, %s::numeric, "
                    "%s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric, "
                    "%s::text, %s::varchar)",
                    number + index + 1,
                    event.kind,
                    member_id or None,
                    event.lot_id or None,
                    money.to_decimal(event.points, POINT_DIGITS),
                    money.to_decimal(event.fund, digits),
                    money.to_decimal(event.reserve, digits),
                    money.to_decimal(event.pending, digits),
                    money.to_decimal(event.wallet, digits),
                    money.to_decimal(event.gross, digits),
                    label(event.price_before),
                    label(event.price_after),
                    json.dumps(event.detail, default=str) if event.detail else None,
                    keys.get(index),
                )
            )
            if member_id:  # also a release: its locked points are recomputed
                delta = deltas.setdefault(member_id, [0, 0, 0, 0])
                delta[0] += event.points
                delta[1] += event.wallet
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO points_pool_move (number, pool_id, company_id, kind, member_id,
                    partner_id, lot_id, points, fund, reserve, pending, wallet, gross,
                    credit, frozen, price_before, price_after, detail, idempotency_key,
                    date, res_model, res_id, create_uid, create_date, write_uid, write_date)
                SELECT v.number, %(pool)s, %(company)s, v.kind, v.member_id, m.partner_id,
                       v.lot_id, v.points, v.fund, v.reserve, v.pending, v.wallet, v.gross,
                       0, 0, v.price_before, v.price_after, v.detail, v.idempotency_key,
                       %(date)s, %(res_model)s, %(res_id)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (VALUES %(rows)s) AS v(number, kind, member_id, lot_id, points, fund,
                       reserve, pending, wallet, gross, price_before, price_after, detail,
                       idempotency_key)
                  LEFT JOIN points_member m ON m.id = v.member_id
                 ORDER BY v.number
                RETURNING id, number
                """,
                rows=SQL(", ").join(rows),
                pool=self.id,
                company=self.company_id.id,
                date=date or now,
                res_model=source._name if source else None,
                res_id=source.id if source else None,
                uid=self.env.uid,
                now=now,
            )
        )
        ids = [
            line_id
            for line_id, _number in sorted(self.env.cr.fetchall(), key=lambda r: r[1])
        ]
        self.env["points.member"]._apply_deltas(deltas, digits)
        return self.env["points.pool.move"].sudo().browse(ids)

    def _journalize(self, lines):
        """Post the one balanced entry of these lines (one pool event).

        Inline, at once.  In an event that runs apart (``run_apart``) the entry
        is posted right after the event commits, in a transaction of its own:
        posting an entry is most of an event's work (about 85% of a sale), and
        the pool row must not wait for it.  Should that step not run (the
        worker died), the settlement job journalizes what is left
        (:meth:`_post_unjournalized`); an event of more than
        ``JOURNAL_AFTER_COMMIT_LINES`` lines (a cascade of exits) leaves its
        entry to that job at once, so the caller does not wait for it.
        """
        self.ensure_one()
        if not lines:
            return
        cr = self.env.cr
        if not self.env.context.get("points_pool_journal_after_commit"):
            lines._post_accounting()
            return
        if len(lines) > JOURNAL_AFTER_COMMIT_LINES:
            # a cascade's entry (a wallet line per member) takes seconds: the
            # settlement job posts it, in the cron worker, right after the commit
            self._trigger_settlement()
            return
        groups = cr.postcommit.data.setdefault("points_pool.journal", [])
        if not groups:
            cr.postcommit.add(partial(_journalize_after_commit, cr.dbname, groups))
        groups.append((self.id, tuple(lines.ids)))

    def _post_unjournalized(self, line_ids=None):
        """Journalize ledger lines that have a number and no entry yet (one
        entry per call), skipping lines another transaction is posting.

        :return: number of lines posted
        """
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_pool_move WHERE pool_id = %s AND number > 0 "
                "AND account_move_id IS NULL AND kind NOT IN ('release', 'commission') "
                "AND (COALESCE(fund, 0) != 0 OR COALESCE(reserve, 0) != 0 "
                "     OR COALESCE(pending, 0) != 0 OR COALESCE(credit, 0) != 0 "
                "     OR COALESCE(frozen, 0) != 0 "
                "     OR (kind != 'withdrawal' AND COALESCE(wallet, 0) != 0)) %s "
                "ORDER BY number FOR UPDATE SKIP LOCKED",
                self.id,
                SQL("AND id = ANY(%s)", list(line_ids)) if line_ids else SQL(""),
            )
        )
        lines = (
            self.env["points.pool.move"]
            .sudo()
            .browse([row[0] for row in self.env.cr.fetchall()])
        )
        lines._post_accounting()
        return len(lines)

    # ------------------------------------------------------------------
    # public API (README "Python / RPC API"; keep these names stable)
    # ------------------------------------------------------------------
    @api.model
    def _get_company_pool(self, company=None):
        """The pool of ``company`` (default: current), created on first use."""
        company = company or self.env.company
        pool = (
            self.sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)], limit=1)
        )
        if not pool:
            pool = self.sudo().create({"company_id": company.id})
        return pool.with_env(self.env)

    def get_pool_state(self):
        """Price, fund, supply, reserve and pending of the pool, as a dict.

        :return: ``{"price": float (exact ratio, 12 decimals), "price_display": str
            (4 decimals), "fund", "supply", "reserve", "pending", "currency"}``
        """
        self.ensure_one()
        price = self._get_state().price(self._get_params())
        return {
            "price": float(money.ceil_decimal(price)),
            "price_display": f"{float(price):.4f}",
            "fund": self.fund,
            "supply": self.supply,
            "reserve": self.reserve,
            "pending": self.pending,
            "currency": self.currency_id.name,
        }

    @api.model
    def get_company_pool(self):
        """Id of the current company's pool (RPC), created on first use."""
        return self._get_company_pool().id

    def action_inject(self, amount, idempotency_key=None):
        """Add ``amount`` (major units) of platform money to the fund (RPC).

        :param idempotency_key: optional; a repeated key returns the first
            result and books nothing (README "Retries")
        :return: ``{"ledger_ids", "exits", "price"}``
        """
        self.ensure_one()
        self._check_can_inject()
        return self._run_apart("_inject_result", amount, idempotency_key)

    def _inject_result(self, amount, idempotency_key=None):
        def inject():
            lines = self._inject(amount)
            return {
                "ledger_ids": lines.ids,
                "exits": len(lines.filtered(lambda line: line.kind == "exit")),
                "price": self.get_pool_state()["price"],
            }

        return self._call_once(
            idempotency_key, "points.pool.action_inject", inject, self._lock_state
        )

    def _check_can_inject(self):
        require_manager(self.env, _("Only a points pool manager can inject money."))

    def _inject(self, amount, source=None):
        """Inject money; :return: the ledger lines written (injection, exits, ...)."""
        self.ensure_one()
        self._check_can_inject()
        digits = self.currency_id.decimal_places
        try:
            minor = money.parse_amount(amount, digits)
        except ValueError as error:
            raise UserError(_("The amount must be a number.")) from error
        if minor <= 0:
            raise UserError(_("The amount must be positive."))
        with self._operation(source=source) as engine:
            engine.inject(minor)
        return engine.ledger_lines

    def action_check(self):
        """Open the reconciliation of this pool against its ledger and the GL."""
        self.ensure_one()
        check = self.env["points.pool.check"].create({"pool_id": self.id})
        return {
            "type": "ir.actions.act_window",
            "name": _("Check pool"),
            "res_model": "points.pool.check",
            "res_id": check.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_open_inject(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Inject money"),
            "res_model": "points.pool.inject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_pool_id": self.id},
        }

    def action_open_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_member_action"
        )
        action["domain"] = [("pool_id", "=", self.id)]
        return action

    def action_open_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_pool_move_action"
        )
        action["domain"] = [("pool_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # settlement, vesting and reconciliation jobs
    # ------------------------------------------------------------------
    def _settle_due(self, now=None, limit=1000):
        """Refund what credit notes queued, then mint every pending lot whose
        return window closed, in batches (inline: tests, one-off calls).

        :return: number of lots minted
        """
        self.ensure_one()
        now = now or fields.Datetime.now()
        self._process_refund_queue()
        total = 0
        while True:
            minted, more = self._settle_batch(now, limit)
            total += minted
            if not more:
                return total

    def _settle_batch(self, now, limit=1000):
        """One settlement batch under one lock: lots in order of settlement
        time, then id; payments undone inside the window are cancelled.

        :return: ``(lots minted, whether more may be due)``
        """
        self.ensure_one()
        Lot = self.env["points.lot"].sudo()
        lots = Lot.search(
            [
                ("pool_id", "=", self.id),
                ("state", "=", LOT_PENDING),
                ("settle_date", "<=", now),
            ],
            order="settle_date, id",
            limit=limit,
        )
        if not lots:
            unnumbered = (
                self.env["points.pool.move"]
                .sudo()
                .search_count([("pool_id", "=", self.id), ("number", "=", 0)], limit=1)
            )
            if unnumbered:
                # nothing due: still journalize the pending lines of recent payments
                with self._operation(date=now):
                    pass
            return 0, False
        more = len(lots) == limit
        payable = lots.filtered(lambda lot: lot._is_still_paid())
        with self._operation(date=now) as engine:
            engine.store.preload(lots.ids)
            # read again under the lock: a credit note may have cancelled one
            pending = {
                lot.id for lot in lots if engine.store.get(lot.id).state == LOT_PENDING
            }
            payable = payable.filtered(lambda lot: lot.id in pending)
            for lot in (lots - payable).filtered(lambda lot: lot.id in pending):
                engine.refund(engine.store.get(lot.id), 1)
            for lot in payable:
                engine.mint(engine.store.get(lot.id))
        lots = lots.filtered(lambda lot: lot.id in pending)
        if lots - payable:
            # payment undone inside the window: the commissions go too
            self.env["points.commission.line"]._reverse_lots(
                lots - payable, 1, "unpaid"
            )
        return len(payable), more

    def _process_refund_queue(self, limit=200):
        """Apply the refunds of the credit notes posted for this pool and not
        applied yet (``points_refund_pending``), oldest first.

        Posting a credit note only queues its refund (no pool lock inside the
        accountant's transaction); this applies it right after that commit and,
        should that fail, on the next settlement run.
        :return: the credit notes processed
        """
        self.ensure_one()
        refunds = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("points_refund_pending", "=", True),
                    ("company_id", "=", self.company_id.id),
                ],
                order="id",
                limit=limit,
            )
        )
        if refunds:
            refunds._points_pool_refund()
        return refunds

    @api.model
    def _process_refund_queue_apart(self, pool_ids):
        """After a credit note's commit: apply its refund in an event of its own."""
        for pool in self.sudo().browse(pool_ids).exists():
            pool.with_company(pool.company_id)._run_apart(
                "_process_refund_queue_ids", force=True
            )

    def _process_refund_queue_ids(self):
        return self._process_refund_queue().ids

    def _release_vesting(self):
        """Daily vesting release of every lot that still has locked units."""
        self.ensure_one()
        Lot = self.env["points.lot"].sudo()
        lots = Lot.search(
            [("pool_id", "=", self.id), ("state", "=", LOT_OPEN), ("locked", ">", 0)]
        )
        if not lots:
            return 0
        with self._operation() as engine:
            engine.store.preload(lots.ids)
            for lot in lots:
                engine.daily_release(engine.store.get(lot.id))
        return len(lots)

    @api.model
    def _cron_settle(self):
        """Hourly (and right after payment with a return window of 0): each
        batch is a pool event of its own, committed at once (README
        "Concurrency"), so a busy pool never makes the job fail."""
        now = fields.Datetime.now()
        for pool in self.sudo().search([("active", "=", True)]):
            pool = pool.with_company(pool.company_id)
            pool._run_apart("_process_refund_queue_ids", force=True)
            while pool._run_apart("_settle_batch", now, force=True)[1]:
                pass
            # entries a post-commit step did not get to (a worker killed)
            pool._run_apart("_post_unjournalized", force=True)

    @api.model
    def _cron_release(self):
        for pool in self.sudo().search([("vesting_rate", ">", 0)]):
            pool.with_company(pool.company_id)._run_apart(
                "_release_vesting", force=True
            )

    @api.model
    def _cron_check(self):
        """Daily reconciliation; posts an alert in the pool's chatter on a difference."""
        for pool in self.sudo().search([("active", "=", True)]):
            problems = pool.with_company(pool.company_id)._check_rows(
                only_problems=True
            )
            if problems:
                body = "; ".join(
                    f"{row['label']}: {row['expected']} / {row['actual']}"
                    for row in problems
                )
                pool.message_post(body=_("Reconciliation differences: %s", body))

    def _trigger_settlement(self):
        """Run the settlement job soon (return window 0 mints right after payment).

        What ``ir.cron._trigger`` does, in one insert: the checkout path.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "points_pool.points_pool_cron_settle"
        )
        self.env.cr.execute(
            SQL(
                "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, "
                "write_uid, write_date) VALUES (%s, now() AT TIME ZONE 'UTC', %s, "
                "now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC')",
                cron_id,
                self.env.uid,
                self.env.uid,
            )
        )
        self.env.cr.postcommit.add(self.env["ir.cron"]._notifydb)

    # ------------------------------------------------------------------
    # the checkout path: cached configuration, one insert
    # ------------------------------------------------------------------
    #: the parameters the checkout path reads (cached; see _get_checkout_config)
    _CHECKOUT_FIELDS = (
        "active",
        "contribution_rate",
        "contribution_base",
        "return_window_days",
        "exit_multiple",
        "company_id",
        "commission_hold_days",
        "credit_earns",
    )

    @api.model
    @tools.ormcache("company_id")
    def _get_checkout_config(self, company_id):
        """What paying an invoice needs of the company's pool, as plain data,
        cached per company (cleared when a pool's parameters change), so the
        checkout path reads nothing of the pool.

        :return: ``None`` when the company has no pool yet, else ``{"pool_id",
            "active", "contribution_rate", "contribution_base",
            "return_window_days", "exit_multiple", "digits"}`` (rates as exact
            decimal strings)
        """
        pool = (
            self.sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company_id)], limit=1)
        )
        if not pool:
            return None
        return {
            "pool_id": pool.id,
            "active": pool.active,
            "contribution_rate": str(money.fraction_of(pool.contribution_rate)),
            "contribution_base": pool.contribution_base,
            "return_window_days": pool.return_window_days,
            "exit_multiple": str(money.fraction_of(pool.exit_multiple)),
            "digits": pool.currency_id.decimal_places,
            "company_id": pool.company_id.id,
            **pool._get_checkout_extra(),
        }

    def _get_checkout_extra(self):
        """More of the pool's parameters the payment path needs (commissions)."""
        return {}

    # ------------------------------------------------------------------
    # the order-source seam: every source books and refunds through these
    # ------------------------------------------------------------------
    @api.model
    def _book_orders(self, orders):
        """Book paid orders: the one entry point of every order source.

        Each :class:`~..core.order.OrderInput` becomes a pending lot and its
        ledger line (number 0), and its commission accruals when a plan is
        active; a booking key that already has a live lot books nothing, so a
        replayed payment or an order synced twice gives one lot.  The checkout
        path: it never takes the pool row and is set-based — the pool's
        configuration from a cache, the members in one query (plus an insert
        for newcomers), lots and lines in one ``INSERT``, the settlement job
        triggered with one more when the return window is 0.

        :param orders: ``OrderInput`` list, any companies
        :return: the lots created
        """
        Pool = self.sudo()
        Lot = self.env["points.lot"].sudo()
        created = Lot
        by_company = defaultdict(list)
        for order in orders:
            if order.bookable:
                by_company[order.company_id].append(order)
        for company_id, company_orders in by_company.items():
            config = Pool._get_checkout_config(company_id)
            if config is None:  # first use: create the company's pool
                Pool._get_company_pool(self.env["res.company"].browse(company_id))
                config = Pool._get_checkout_config(company_id)
            if not config["active"]:
                continue
            pool = Pool.browse(config["pool_id"])
            # what the payment path reads of the pool, from the cached configuration
            self.env.cache.update(pool, Pool._fields["company_id"], [company_id])
            if "commission_hold_days" in config:
                self.env.cache.update(
                    pool,
                    Pool._fields["commission_hold_days"],
                    [config["commission_hold_days"]],
                )
            enrolled = set()
            members = self.env["points.member"]._get_or_create_ids(
                pool,
                sorted({order.partner_id for order in company_orders}),
                enrolled=enrolled,
            )
            if enrolled:
                self._bind_to_stores(company_id, company_orders, enrolled)
            lots = pool._insert_pending(
                [(order, members[order.partner_id]) for order in company_orders],
                config,
            )
            created |= lots
            if lots and self.env["points.commission.plan"]._get_active_plan_id(
                company_id
            ):
                # commissions accrue on the same trigger (inserted, journalized by the job)
                by_key = {order.key: order for order in company_orders}
                bases = {}
                for lot in lots:
                    order = by_key[lot.source_key]
                    bases[lot] = (order.basis, order.inflow, order.margin, order.units)
                self.env["points.commission.line"]._accrue_lots(lots, bases=bases)
            if lots and not config["return_window_days"]:
                pool._trigger_settlement()
        return created

    @api.model
    def _bind_to_stores(self, company_id, orders, enrolled):
        """A customer enrolled by an order at a store that binds (the till) is
        bound to the store's owner, as its QR would (SPEC 3)."""
        Node = self.env["points.referral.node"].sudo()
        company = self.env["res.company"].browse(company_id)
        Partner = self.env["res.partner"].sudo()
        for order in orders:
            if order.bind_store and order.store_id and order.partner_id in enrolled:
                store = Partner.browse(order.store_id)
                if store.points_store_code:
                    Node._bind_partner_by_code(
                        Partner.browse(order.partner_id),
                        store.points_store_code,
                        "store",
                        company=company,
                    )

    @api.model
    def _refund_orders(self, origin, fraction, key, source=None):
        """Refund ``fraction`` of the *original* order ``origin`` (what its
        source named in ``OrderInput.origin``): its lots, and its commissions.

        The other entry point of the seam.  A pool event under the pool lock,
        exactly once: ``refund:<key>:<lot>`` in the ledger, ``refund:<key>`` on
        the commission reversals; the core keeps the share refunded so far, so
        refunds that add up to the order leave nothing and never more.

        :param fraction: ``Fraction`` of the original order, ``0 < f <= 1``
        :param source: the refund document, for the ledger and the entry
        :return: the lots refunded now
        """
        Lot = self.env["points.lot"].sudo()
        Move = self.env["points.pool.move"].sudo()
        fraction = min(Fraction(1), Fraction(fraction))
        refunded = Lot
        if fraction <= 0:
            return refunded
        lots = Lot.search([("origin_key", "=", origin), ("state", "!=", "cancelled")])
        for pool in lots.pool_id:
            keys = {
                lot: f"refund:{key}:{lot.id}" for lot in lots if lot.pool_id == pool
            }
            todo = []
            with pool._operation(source=source) as engine:
                # under the lock: a concurrent run may have applied it
                done = set(
                    Move.search(
                        [("idempotency_key", "in", list(keys.values()))]
                    ).mapped("idempotency_key")
                )
                firsts = []
                for lot, lot_key in keys.items():
                    core_lot = engine.store.get(lot.id)
                    if lot_key in done or core_lot.refunded >= 1:
                        continue
                    if core_lot.state == "cancelled":
                        continue
                    firsts.append((len(engine.events), lot_key))
                    engine.refund(core_lot, fraction)
                    todo.append(lot.id)
                engine.idempotency = firsts
            if todo:
                # commissions: the same share, once per (refund, lot)
                self.env["points.commission.line"]._reverse_lots(
                    Lot.browse(todo), fraction, f"refund:{key}", source=source
                )
                refunded |= Lot.browse(todo)
        return refunded

    @api.model
    def _product_rates_sql(self, product_ids_sql):
        """``(product id, own rate, category rate)`` rows (rates as text, percent)
        for the products of ``product_ids_sql``: the one place the contribution
        rate of a product is looked up (the product's, else its nearest category's)."""
        return SQL(
            """
            SELECT p.id,
                   CASE WHEN t.points_pool_rate_set THEN t.points_pool_rate::text END,
                   (SELECT c2.points_pool_rate::text FROM product_category c2
                     WHERE c2.points_pool_rate_set
                       AND c2.id::text = ANY(string_to_array(rtrim(c.parent_path, '/'), '/'))
                     ORDER BY length(c2.parent_path) DESC LIMIT 1)
              FROM product_product p
              JOIN product_template t ON t.id = p.product_tmpl_id
              LEFT JOIN product_category c ON c.id = t.categ_id
             WHERE p.id IN (%s)
            """,
            product_ids_sql,
        )

    @api.model
    def _flush_rate_fields(self):
        for model, names in (
            ("product.product", ["product_tmpl_id"]),
            (
                "product.template",
                ["categ_id", "points_pool_rate_set", "points_pool_rate"],
            ),
            (
                "product.category",
                ["parent_path", "points_pool_rate_set", "points_pool_rate"],
            ),
        ):
            self.env[model].flush_model(names)

    @api.model
    def _product_rates(self, product_ids):
        """``{product id: rate as a share or None}`` (None: the pool's rate), one query."""
        if not product_ids:
            return {}
        self._flush_rate_fields()
        self.env.cr.execute(
            self._product_rates_sql(
                SQL(", ").join(SQL("%s", pid) for pid in product_ids)
            )
        )
        return {
            product_id: rate_share(own, category)
            for product_id, own, category in self.env.cr.fetchall()
        }

    def _estimate_points(self, inflow):
        """Points ``inflow`` (minor units) would mint at today's price (exact ratio)."""
        self.ensure_one()
        params = self._get_params()
        return order_core.estimate_points(
            inflow, self._get_state().price(params), params
        )

    def _insert_pending(self, rows, config):
        """Insert the pending lots and their ledger lines (number 0) in one
        statement; a booking key that already has a live lot is skipped.

        :param rows: ``[(OrderInput, member id)]``, amounts in minor units
        :return: the lots inserted
        """
        self.ensure_one()
        digits = config["digits"]
        multiple = Fraction(config["exit_multiple"])
        now = fields.Datetime.now()
        settle = now + timedelta(days=config["return_window_days"])
        Lot = self.env["points.lot"].sudo()
        links = sorted({name for order, _m in rows for name in order.links})
        source_links = Lot._get_source_links()
        unknown = set(links) - set(source_links)
        if unknown:
            raise ValueError(f"not a source link of points.lot: {sorted(unknown)}")
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s::varchar, %s::int, %s, %s::numeric, %s::numeric, %s::numeric, "
                "%s::numeric, %s::jsonb, %s::int, %s::int, %s::timestamp, %s::int, "
                "%s%s)",
                order.key,
                order.origin,
                order.ref or None,
                order.res_model,
                order.res_id,
                member_id,
                money.to_decimal(order.basis, digits),
                money.to_decimal(order.inflow, digits),
                money.to_decimal(floor(multiple * order.basis), digits),
                money.to_decimal(order.margin, digits),
                json.dumps({str(p): str(q) for p, q in sorted(order.units.items())}),
                order.store_id or None,
                order.service_point_id or None,
                order.pickup_date or None,
                order.address_id or None,
                order.partner_id,
                SQL("").join(
                    SQL(", %s::int", order.links.get(name) or None) for name in links
                ),
            )
            for order, member_id in rows
        )
        link_columns = SQL("").join(SQL(", %s", SQL.identifier(name)) for name in links)
        uid = self.env.uid
        self.env.cr.execute(
            SQL(
                """
                WITH v(source_key, origin_key, source_ref, res_model, res_id, member_id,
                       basis, inflow, cap, margin, units, store_id, service_point_id,
                       pickup_date, address_id, partner_id%(links)s)
                  AS (VALUES %(values)s),
                lot AS (
                    INSERT INTO points_lot (pool_id, company_id, member_id, partner_id,
                        source_key, origin_key, source_ref, margin, units, store_id,
                        service_point_id, pickup_date, address_id%(links)s, state,
                        date_paid, settle_date, basis, inflow, cap, create_uid,
                        create_date, write_uid, write_date)
                    SELECT %(pool)s, %(company)s, member_id, partner_id, source_key,
                           origin_key, source_ref, margin, units, store_id,
                           service_point_id, pickup_date, address_id%(links)s, 'pending',
                           %(now)s, %(settle)s, basis, inflow, cap, %(uid)s, %(now)s,
                           %(uid)s, %(now)s
                      FROM v ORDER BY source_key
                    ON CONFLICT (source_key) WHERE state != 'cancelled' DO NOTHING
                    RETURNING id, source_key, member_id, partner_id, basis, inflow, cap
                ),
                line AS (
                    INSERT INTO points_pool_move (pool_id, company_id, kind, number, date,
                        member_id, partner_id, lot_id, pending, price_before, price_after,
                        res_model, res_id, idempotency_key, create_uid, create_date,
                        write_uid, write_date)
                    SELECT %(pool)s, %(company)s, 'pending', 0, %(now)s, lot.member_id,
                           lot.partner_id, lot.id, lot.inflow, 0, 0, v.res_model, v.res_id,
                           'pending:' || lot.id, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM lot JOIN v ON v.source_key = lot.source_key ORDER BY lot.id
                    RETURNING lot_id
                )
                SELECT lot.id, lot.source_key, lot.member_id, lot.partner_id,
                       lot.basis::text, lot.inflow::text, lot.cap::text
                  FROM lot JOIN line ON line.lot_id = lot.id ORDER BY lot.id
                """,
                values=values,
                links=link_columns,
                pool=self.id,
                company=config["company_id"],
                now=now,
                settle=settle,
                uid=uid,
            )
        )
        inserted = self.env.cr.fetchall()
        # the documents' and members' lists of lots and lines changed under the
        # ORM (first: invalidating them also drops their inverse on the lots)
        for name in source_links:
            comodel = self.env[Lot._fields[name].comodel_name]
            if "points_lot_ids" in comodel._fields:
                comodel.invalidate_model(["points_lot_ids"])
        self.env["points.member"].invalidate_model(["lot_ids", "ledger_ids"])
        lots = Lot.browse([row[0] for row in inserted])
        by_key = {order.key: order for order, _m in rows}
        orders = [by_key[row[1]] for row in inserted]
        n = len(inserted)
        # what was inserted, as the ORM's create would have cached it
        columns = {
            "pool_id": [self.id] * n,
            "company_id": [config["company_id"]] * n,
            "source_key": [row[1] for row in inserted],
            "origin_key": [order.origin for order in orders],
            "source_ref": [order.ref or None for order in orders],
            "margin": [money.to_float(order.margin, digits) for order in orders],
            "store_id": [order.store_id or None for order in orders],
            "service_point_id": [order.service_point_id or None for order in orders],
            "pickup_date": [order.pickup_date or None for order in orders],
            "address_id": [order.address_id or None for order in orders],
            **{
                name: [order.links.get(name) or None for order in orders]
                for name in source_links
            },
            "member_id": [row[2] for row in inserted],
            "partner_id": [row[3] for row in inserted],
            "state": ["pending"] * n,
            "date_paid": [now] * n,
            "settle_date": [settle] * n,
            "basis": [float(row[4]) for row in inserted],
            "inflow": [float(row[5]) for row in inserted],
            "cap": [float(row[6]) for row in inserted],
            # the columns left to their default
            **dict.fromkeys(
                ("minted", "held", "locked", "realized", "paid", "trigger_price"),
                [0.0] * n,
            ),
            "refunded_percent": [0.0] * n,
            "refunded_share": [None] * n,
            "create_uid": [uid] * n,
            "write_uid": [uid] * n,
            "create_date": [now] * n,
            "write_date": [now] * n,
        }
        for name, values in columns.items():
            self.env.cache.update(lots, Lot._fields[name], values)
        return lots

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
        """``(label, expected, actual)`` of the pool's reconciliation.

        Compares the pool row with its ledger (Σ deltas), with its lots, and with
        the general ledger; checks the ledger numbering has no gap.
        """
        self.ensure_one()
        if scope not in ("all", "pool"):
            return []
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
                "AND account_move_id IS NULL AND kind != 'release' "
                "AND NOT (kind = 'withdrawal' AND COALESCE(credit, 0) = 0 "
                "         AND COALESCE(frozen, 0) = 0) "
                "AND (COALESCE(fund, 0) != 0 OR COALESCE(reserve, 0) != 0 "
                "     OR COALESCE(pending, 0) != 0 OR COALESCE(wallet, 0) != 0 "
                "     OR COALESCE(credit, 0) != 0 OR COALESCE(frozen, 0) != 0)",
                self.id,
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
        user = self.env.user
        if not (
            self.env.su
            or user.has_group("points_pool.points_pool_group_accountant")
            or user.has_group("points_pool.points_pool_group_manager")
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
    # dashboard (back office): the pool form's stat buttons
    # ------------------------------------------------------------------
    withdrawal_to_approve_count = fields.Integer(
        "Withdrawals to approve", compute="_compute_withdrawal_to_approve_count"
    )

    def _compute_withdrawal_to_approve_count(self):
        counts = dict(
            self.env["points.withdrawal"]._read_group(
                [("pool_id", "in", self.ids), ("state", "=", "requested")],
                ["pool_id"],
                ["__count"],
            )
        )
        for pool in self:
            pool.withdrawal_to_approve_count = counts.get(pool, 0)


def rate_share(own, category):
    """A product's contribution rate as a share, from its own and its
    category's percent (text); ``None``: the pool's rate applies."""
    rate = own if own is not None else category
    return None if rate is None else Fraction(rate) / 100


def _journalize_after_commit(dbname, groups):
    """Post-commit step of the events that ran apart: their entries."""
    try:
        with Registry(dbname).cursor() as cr:
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            env = api.Environment(cr, SUPERUSER_ID, {})
            for pool_id, line_ids in groups:
                pool = env["points.pool"].browse(pool_id)
                pool.with_company(pool.company_id)._post_unjournalized(line_ids)
    except Exception:  # noqa: BLE001 - the settlement job journalizes them later
        _logger.exception("points pool: entries of %s postponed", dbname)


def can_run_apart(env, force=False):
    """Can a pool event of this request run in a transaction of its own?

    Only on a real database connection (not a test cursor) and only when the
    request's transaction has written nothing yet: then the event depends on
    no uncommitted data, and committing it apart loses nothing if the request
    fails later.  ``force``: the caller (a scheduled job) reads committed data
    only, whatever its own transaction did.
    """
    cr = env.cr
    if env.context.get("points_pool_inline") or type(cr) is not sql_db.Cursor:
        return False
    if force:
        return True
    env.flush_all()
    cr.execute("SELECT txid_current_if_assigned() IS NULL")
    return cr.fetchone()[0]


#: the group allowed to change the pool's money and rules (inject, approve, plans, ...)
MANAGER_GROUP = "points_pool.points_pool_group_manager"


def is_manager(env):
    """Whether ``env`` acts as a points pool manager (the superuser does)."""
    return env.su or env.user.has_group(MANAGER_GROUP)


def require_manager(env, message):
    """Raise ``UserError(message)`` unless the user is a points pool manager
    (the same check for every manager-only action; ``message`` says which)."""
    if not env.user.has_group(MANAGER_GROUP):
        raise UserError(message)


def run_apart(records, method, *args, force=False, **kwargs):
    """Call ``records.<method>(*args, **kwargs)`` as one pool event.

    Apart (see :func:`can_run_apart`): in a new transaction at READ COMMITTED
    on a connection of its own, committed when the method returns.  Under
    REPEATABLE READ (Odoo's level) two transactions that overlap and both
    change the pool row conflict, and the later one is retried from the start
    (after a random back-off of up to 2**n seconds); at READ COMMITTED the
    ``SELECT ... FOR NO KEY UPDATE`` of ``_lock_state`` waits for the holder
    and then reads the row as committed, so an event never fails because
    another ran at the same time, and the row is held only for the event
    itself.  The method must return plain data: the caller's snapshot does not
    see these rows.  Otherwise the method runs inline, in the caller's
    transaction (tests, or a request that already wrote something).
    """
    env = records.env
    if not can_run_apart(env, force=force):
        return getattr(records, method)(*args, **kwargs)
    with env.registry.cursor() as cr:
        cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
        apart = env(
            cr=cr, context=dict(env.context, points_pool_journal_after_commit=True)
        )
        result = getattr(records.with_env(apart), method)(*args, **kwargs)
    # the event committed: nothing of it may be served from this cache
    env.invalidate_all()
    return result


class _SqlLotStore(LotStore):
    """Lot store over ``points_lot``: indexed reads, batched writes at the end."""

    COLUMNS = (
        "id, member_id, basis::text, inflow::text, cap::text, minted::text, held::text, "
        "locked::text, realized::text, paid::text, state, refunded_share"
    )

    def __init__(self, pool):
        self.pool = pool
        self.digits = pool.currency_id.decimal_places
        self.lots = {}
        self.records = {}
        self.dirty = set()

    def _load(self, rows):
        result = []
        d = self.digits
        for row in rows:
            lot_id = row[0]
            if lot_id in self.lots:
                result.append(self.lots[lot_id])
                continue
            lot = Lot(
                id=lot_id,
                member_id=row[1],
                basis=money.to_minor(row[2], d),
                inflow=money.to_minor(row[3], d),
                cap=money.to_minor(row[4], d),
                minted=money.to_minor(row[5], POINT_DIGITS),
                held=money.to_minor(row[6], POINT_DIGITS),
                locked=money.to_minor(row[7], POINT_DIGITS),
                realized=money.to_minor(row[8], d),
                paid=money.to_minor(row[9], d),
                state=row[10],
                refunded=Fraction(row[11] or 0),
            )
            self.lots[lot_id] = lot
            self.records[lot_id] = {"member_id": lot.member_id}
            result.append(lot)
        return result

    def _select(self, where):
        cr = self.pool.env.cr
        cr.execute(SQL("SELECT %s FROM points_lot WHERE %s", SQL(self.COLUMNS), where))
        return self._load(cr.fetchall())

    def preload(self, lot_ids):
        """Read many lots in one query (settlement and vesting batches)."""
        missing = tuple(lot_id for lot_id in lot_ids if lot_id not in self.lots)
        if missing:
            self._select(SQL("id IN %s", missing))

    def get(self, lot_id):
        if lot_id not in self.lots:
            self._select(SQL("id = %s", lot_id))
        return self.lots[lot_id]

    def member_lots(self, member_id):
        """Open lots of a member, oldest first."""
        return self._select(
            SQL(
                "member_id = %s AND state = 'open' ORDER BY settle_date, id",
                member_id,
            )
        )

    def due_lots(self, price, limit):
        self.flush()
        return self._select(
            SQL(
                "pool_id = %s AND state = 'open' AND trigger_price <= %s "
                "ORDER BY trigger_price, id LIMIT %s",
                self.pool.id,
                money.ceil_decimal(price),
                limit,
            )
        )

    def save(self, lot):
        self.lots[lot.id] = lot
        self.records.setdefault(lot.id, {"member_id": lot.member_id})
        self.dirty.add(lot.id)

    def flush(self):
        """Write changed lots with one UPDATE ... FROM (VALUES ...)."""
        if not self.dirty:
            return
        d = self.digits
        params = self.pool._get_params()
        values = []
        for lot_id in sorted(self.dirty):
            lot = self.lots[lot_id]
            trigger = lot.trigger(params)
            values.append(
                SQL(
                    "(%s, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric, "
                    "%s::numeric, %s::numeric, %s::numeric, %s, %s::numeric, %s, %s::numeric)",
                    lot.id,
                    money.to_decimal(lot.basis, d),
                    money.to_decimal(lot.inflow, d),
                    money.to_decimal(lot.cap, d),
                    money.to_decimal(lot.minted, POINT_DIGITS),
                    money.to_decimal(lot.held, POINT_DIGITS),
                    money.to_decimal(lot.locked, POINT_DIGITS),
                    money.to_decimal(lot.realized, d),
                    money.to_decimal(lot.paid, d),
                    lot.state,
                    money.ceil_decimal(trigger) if trigger is not None else None,
                    str(lot.refunded) if lot.refunded else None,
                    money.ceil_decimal(lot.refunded * 100, 6) if lot.refunded else 0,
                )
            )
        self.pool.env.cr.execute(
            SQL(
                "UPDATE points_lot AS l SET basis = v.basis, inflow = v.inflow, cap = v.cap, "
                "minted = v.minted, held = v.held, locked = v.locked, realized = v.realized, "
                "paid = v.paid, state = v.state, trigger_price = v.trigger_price, "
                "refunded_share = v.refunded_share, refunded_percent = v.refunded_percent, "
                "write_date = now() at time zone 'UTC', write_uid = %s "
                "FROM (VALUES %s) AS v(id, basis, inflow, cap, minted, held, locked, realized, "
                "paid, state, trigger_price, refunded_share, refunded_percent) WHERE l.id = v.id",
                self.pool.env.uid,
                SQL(", ").join(values),
            )
        )
        self.pool.env["points.lot"].invalidate_model()
        self.dirty.clear()
