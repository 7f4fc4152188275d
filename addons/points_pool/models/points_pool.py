import json
import logging
from contextlib import contextmanager
from fractions import Fraction
from functools import partial

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import SUPERUSER_ID, _, api, fields, models, sql_db
from odoo.exceptions import UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.tools import SQL

from ..core import compliance, ledger, money
from ..core.pool import (
    LOT_EXITED,
    POINT_DIGITS,
    PoolEngine,
    PoolError,
    PoolParams,
    PoolState,
)
from .account_chart_template import POOL_ACCOUNTING_FIELDS
from .points_lot_store import SqlLotStore

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
                [("pool_id", "in", self.ids), ("state", "=", LOT_EXITED)],
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
        """Wire the pool to its company's accounts and journals, loading them
        from the chart template data (``account_chart_template.py``) if the
        company lacks them: the one place they are made."""
        ChartTemplate = self.env["account.chart.template"]
        for pool in self:
            missing = [name for name in POOL_ACCOUNTING_FIELDS if not pool[name]]
            if missing:
                records = ChartTemplate._points_pool_load(pool.company_id)
                pool.sudo().write({name: records[name].id for name in missing})

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
        lots = SqlLotStore(self)._select(
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
        store = SqlLotStore(self)
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
                "AND account_move_id IS NULL AND kind = ANY(%s) AND %s %s "
                "ORDER BY number FOR UPDATE SKIP LOCKED",
                self.id,
                list(ledger.codes(posted_by=ledger.POOL)),
                self.env["points.pool.move"]._needs_entry_sql(),
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
