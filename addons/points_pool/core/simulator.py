"""Economics simulator of the pool (issue 13), with no ORM in it.

It runs the very same :class:`~.pool.PoolEngine` as the ledger over a
:class:`Scenario`, day by day, from an empty pool or from a :class:`Snapshot`
of a live one, and reports what members would spend and get back.  It never
computes pool arithmetic itself: every price, mint, sale and exit comes from
the engine's events.

Units are the core's (see :mod:`.pool`): money in integer minor units, points
in 1e-4 units, prices and shares as exact :class:`~fractions.Fraction`.

One simulated day, in this order:

==================  ==========================================================
step                what the engine is asked to do
==================  ==========================================================
vesting             ``daily_release`` of every locked open lot (a lot minted
                    today vests from tomorrow)
settlement          mint the lots paid ``settle_after_days`` ago (and pending
                    lots of the snapshot, on day 0)
orders              ``add_pending`` of each order (basis ``order_amount``,
                    inflow ``floor(rate * basis)``); minted at once when
                    ``settle_after_days`` is 0
injection           ``inject(injection_per_day)``
run                 when the price has not risen for ``run_after_days`` days,
                    ``ceil(run_share * holders)`` holders (drawn with the seed)
                    sell all their free units, oldest lots first
==================  ==========================================================

Usage::

    result = simulate(steady(days=1000), PoolParams())
    result.days[-1].price, result.summary.paid_over_spent
    rows = result.to_csv_rows()  # header first, decimals as text
"""

import csv
import heapq
import math
import random
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction

from .money import to_decimal
from .pool import (
    LOT_CANCELLED,
    LOT_OPEN,
    LOT_PENDING,
    POINT_DIGITS,
    Lot,
    MemoryLotStore,
    PoolEngine,
    PoolError,
    PoolParams,
    PoolState,
    floor,
    to_fraction,
)

#: refuse scenarios that would book more orders than this (a typo in growth)
MAX_ORDERS = 2_000_000
#: digits of the price in CSV rows (the exact Fraction stays in the data)
PRICE_DIGITS = 6


# ----------------------------------------------------------------------
# lot store with an exit index
# ----------------------------------------------------------------------
class IndexedLotStore(MemoryLotStore):
    """:class:`MemoryLotStore` whose ``due_lots`` reads a heap, not a scan.

    Open lots sit in a heap keyed like the SQL index of the ORM store,
    ``(trigger, id)`` with ``trigger = (C - R) / u`` exact.  Each ``save``
    pushes the lot's new key when it changed; older entries of that lot become
    stale (their version is no longer the lot's) and are dropped when met.
    ``due_lots(price, limit)`` pops the live entries with ``trigger <= price``
    (at most ``limit``) and pushes them back: O((due + stale) log lots), and it
    returns exactly what :meth:`MemoryLotStore.due_lots` returns, as long as
    every change of a lot goes through ``add`` or ``save`` (the engine's way);
    call :meth:`reindex` after changing lots behind the store's back.
    """

    def __init__(self, params):
        super().__init__(params)
        self.heap = []
        #: lot id -> (version, trigger) of its live heap entry
        self.keys = {}
        self.version = 0

    def add(self, lot):
        self.lots[lot.id] = lot
        self._index(lot)
        return lot

    def save(self, lot):
        self.lots[lot.id] = lot
        self._index(lot)

    def _index(self, lot):
        trigger = lot.trigger(self.params)
        current = self.keys.get(lot.id)
        if current is not None and current[1] == trigger:
            return  # same key, the live entry still holds
        if trigger is None:
            self.keys.pop(lot.id, None)
            return
        self.version += 1
        self.keys[lot.id] = (self.version, trigger)
        heapq.heappush(self.heap, (trigger, lot.id, self.version))
        if len(self.heap) > 2 * len(self.keys) + 64:
            self._compact()

    def _compact(self):
        self.heap = [
            (trigger, lot_id, version)
            for lot_id, (version, trigger) in self.keys.items()
        ]
        heapq.heapify(self.heap)

    def reindex(self):
        """Rebuild the index from the lots (after changes not saved)."""
        self.keys = {}
        self.heap = []
        for lot in self.lots.values():
            self._index(lot)

    def due_lots(self, price, limit):
        heap, keys = self.heap, self.keys
        taken = []
        while heap and len(taken) < limit and heap[0][0] <= price:
            entry = heapq.heappop(heap)
            key = keys.get(entry[1])
            if key is not None and key[0] == entry[2]:
                taken.append(entry)
        for entry in taken:
            heapq.heappush(heap, entry)
        return [self.lots[lot_id] for _trigger, lot_id, _version in taken]


# ----------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------
def _share(value, name, high=None):
    value = to_fraction(value)
    if value < 0 or (high is not None and value > high):
        raise ValueError(f"{name} out of range: {value}")
    return value


@dataclass(frozen=True)
class Scenario:
    """What happens to the pool, day by day (all amounts in minor units).

    :param days: number of simulated days (day 0 first)
    :param orders_per_day: orders on day 0 (int, str or Fraction; a fraction
        of an order carries over to the next day)
    :param growth_pct: daily growth of the order count in percent,
        compounded (``-100 < growth_pct``)
    :param stop_day: first day without orders (None: orders every day;
        0: no new order at all, e.g. from a snapshot)
    :param order_amount: basis ``B`` of each order
    :param contribution_rate: inflow ``I = floor(rate * B)``
    :param settle_after_days: return window; 0 mints at payment
    :param repeat_share: share of orders placed by an existing member (drawn
        with the seed); the others come from new members
    :param injection_per_day: platform money injected each day
    :param injection_days: days with an injection (None: every day)
    :param run_after_days: ``k``; holders run when the price has not risen for
        ``k`` days (None: never)
    :param run_share: share of holders (ceiled) who sell all their free units
        on a run day
    :param seed: seed of the draws (repeat buyers, sellers)
    """

    days: int = 365
    orders_per_day: Fraction = Fraction(20)
    growth_pct: Fraction = Fraction(0)
    stop_day: int | None = None
    order_amount: int = 100000
    contribution_rate: Fraction = Fraction(3, 10)
    settle_after_days: int = 0
    repeat_share: Fraction = Fraction(0)
    injection_per_day: int = 0
    injection_days: int | None = None
    run_after_days: int | None = None
    run_share: Fraction = Fraction(0)
    seed: int = 0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "orders_per_day", _share(self.orders_per_day, "orders_per_day"))
        set_(self, "growth_pct", to_fraction(self.growth_pct))
        set_(
            self,
            "contribution_rate",
            _share(self.contribution_rate, "contribution_rate", 1),
        )
        set_(self, "repeat_share", _share(self.repeat_share, "repeat_share", 1))
        set_(self, "run_share", _share(self.run_share, "run_share", 1))
        if self.growth_pct <= -100:
            raise ValueError(f"growth_pct out of range: {self.growth_pct}")
        for name in ("days", "order_amount", "settle_after_days", "injection_per_day"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        for name in ("stop_day", "injection_days", "run_after_days"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be None or a non-negative integer")

    def order_counts(self):
        """Orders of each day: ``orders_per_day * (1 + g)^d``, fractions carried."""
        counts, rate, carry = [], self.orders_per_day, Fraction(0)
        factor = 1 + self.growth_pct / 100
        total = 0
        for day in range(self.days):
            if self.stop_day is not None and day >= self.stop_day:
                counts.append(0)
                continue
            carry += rate
            count = floor(carry)
            carry -= count
            total += count
            if total > MAX_ORDERS:
                raise ValueError(f"more than {MAX_ORDERS} orders")
            counts.append(count)
            rate *= factor
            if rate.denominator > 10**12:  # keep the exact powers small
                rate = Fraction(floor(rate * 10**12), 10**12)
        return counts

    def injection(self, day):
        if self.injection_days is not None and day >= self.injection_days:
            return 0
        return self.injection_per_day

    @property
    def inflow(self):
        """Inflow of one order, ``floor(rate * B)``."""
        return floor(self.contribution_rate * self.order_amount)


@dataclass(frozen=True)
class Snapshot:
    """A pool to start from: ``P``, ``S``, ``Z``, last price and its lots.

    ``lots`` are :class:`~.pool.Lot` objects (copied on start): open lots with
    their caps, realized gross and held units; pending lots settle on day 0;
    closed and exited lots only count in the members' spend and payouts.
    ``supply`` must equal the units held in ``lots`` and ``pending`` (derived)
    the pending inflows.
    """

    fund: int = 0
    supply: int = 0
    reserve: int = 0
    last_price: Fraction | None = None
    lots: tuple = ()

    @classmethod
    def of(cls, state, lots):
        """Snapshot of an engine's ``state`` and lots (e.g. ``store.lots.values()``)."""
        return cls(
            fund=state.fund,
            supply=state.supply,
            reserve=state.reserve,
            last_price=state.last_price,
            lots=tuple(sorted(lots, key=lambda lot: lot.id)),
        )

    def state(self):
        pending = sum(lot.inflow for lot in self.lots if lot.state == LOT_PENDING)
        held = sum(lot.held for lot in self.lots)
        if held != self.supply:
            raise ValueError(f"snapshot supply {self.supply} != units held {held}")
        return PoolState(
            fund=self.fund,
            supply=self.supply,
            reserve=self.reserve,
            pending=pending,
            last_price=self.last_price,
        )


# ----------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------
@dataclass
class DayRow:
    """The pool at the end of one day and what happened during it.

    Money in minor units, ``supply`` in 1e-4 points, ``price`` exact.
    ``cum_spent`` and ``cum_paid`` include the snapshot's lots; ``holders``
    is the number of members with free units when a run started (0 on days
    without a run).
    """

    day: int
    orders: int = 0
    new_members: int = 0
    spent: int = 0
    inflow: int = 0
    injected: int = 0
    run: bool = False
    exits: int = 0
    exit_paid: int = 0
    sells: int = 0
    sell_paid: int = 0
    paid: int = 0
    cum_spent: int = 0
    cum_paid: int = 0
    price: Fraction = Fraction(0)
    fund: int = 0
    supply: int = 0
    reserve: int = 0
    pending: int = 0
    holders: int = 0


@dataclass
class Summary:
    """End-of-run figures over all members who spent something.

    ``recovered_*``: members whose payouts reached their spend;
    ``median_recovery``: median of paid / spent per member;
    ``top1_share``: share of all payouts that went to the top 1 % of members
    (ceiled, at least one) ranked by payout.
    """

    days: int = 0
    orders: int = 0
    members: int = 0
    spent: int = 0
    paid: int = 0
    injected: int = 0
    exits: int = 0
    sells: int = 0
    paid_over_spent: Fraction | None = None
    recovered_members: int = 0
    recovered_share: Fraction | None = None
    median_recovery: Fraction | None = None
    top1_members: int = 0
    top1_share: Fraction | None = None
    price: Fraction = Fraction(0)
    fund: int = 0
    supply: int = 0
    reserve: int = 0


@dataclass
class MemberTally:
    spent: int = 0
    paid: int = 0
    #: ids of the member's lots that may still be open, oldest first
    lots: list = field(default_factory=list)


@dataclass
class SimulationResult:
    scenario: Scenario
    params: PoolParams
    days: list
    summary: Summary
    members: dict
    #: engine events, when ``keep_events``
    events: list = field(default_factory=list)
    #: operations asked of the engine, when ``record_ops`` (see :func:`simulate`)
    ops: list = field(default_factory=list)
    state: PoolState | None = None
    lots: dict | None = None

    def day_dicts(self):
        return [asdict(row) for row in self.days]

    def to_csv_rows(self):
        """Header then one row per day, money and points as decimal text."""
        digits = self.params.digits
        money = {
            "spent",
            "inflow",
            "injected",
            "exit_paid",
            "sell_paid",
            "paid",
            "cum_spent",
            "cum_paid",
            "fund",
            "reserve",
            "pending",
        }
        names = [f.name for f in fields(DayRow)]
        rows = [names]
        for row in self.days:
            out = []
            for name in names:
                value = getattr(row, name)
                if name in money:
                    out.append(str(to_decimal(value, digits)))
                elif name == "supply":
                    out.append(str(to_decimal(value, POINT_DIGITS)))
                elif name == "price":
                    out.append(format_price(value))
                elif name == "run":
                    out.append("1" if value else "0")
                else:
                    out.append(str(value))
            rows.append(out)
        return rows

    def write_csv(self, stream):
        csv.writer(stream).writerows(self.to_csv_rows())

    def summary_rows(self):
        """``(name, text)`` pairs of the summary, shares as decimals."""
        digits = self.params.digits
        rows = []
        for f in fields(Summary):
            value = getattr(self.summary, f.name)
            if value is None:
                text = ""
            elif isinstance(value, Fraction):
                text = format_price(value)
            elif f.name in ("spent", "paid", "injected", "fund", "reserve"):
                text = str(to_decimal(value, digits))
            elif f.name == "supply":
                text = str(to_decimal(value, POINT_DIGITS))
            else:
                text = str(value)
            rows.append((f.name, text))
        return rows


def format_price(value, digits=PRICE_DIGITS):
    """A fraction rounded half up to ``digits`` places, as text."""
    scaled = Fraction(value) * 10**digits
    number = math.floor(scaled + Fraction(1, 2))
    return str(to_decimal(number, digits))


def _median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def summarize(members, days, totals, state, params):
    """The :class:`Summary` of a run (``members``: id -> MemberTally)."""
    spenders = [tally for tally in members.values() if tally.spent > 0]
    spent = sum(tally.spent for tally in spenders)
    paid = sum(tally.paid for tally in members.values())
    recovered = sum(1 for tally in spenders if tally.paid >= tally.spent)
    ranked = sorted((tally.paid for tally in members.values()), reverse=True)
    top = max(1, math.ceil(len(ranked) / 100)) if ranked else 0
    return Summary(
        days=days,
        orders=totals["orders"],
        members=len(spenders),
        spent=spent,
        paid=paid,
        injected=totals["injected"],
        exits=totals["exits"],
        sells=totals["sells"],
        paid_over_spent=Fraction(paid, spent) if spent else None,
        recovered_members=recovered,
        recovered_share=Fraction(recovered, len(spenders)) if spenders else None,
        median_recovery=_median(
            [Fraction(tally.paid, tally.spent) for tally in spenders]
        ),
        top1_members=top,
        top1_share=Fraction(sum(ranked[:top]), paid) if paid else None,
        price=state.price(params),
        fund=state.fund,
        supply=state.supply,
        reserve=state.reserve,
    )


# ----------------------------------------------------------------------
# the simulation
# ----------------------------------------------------------------------
def _draw(rng, share):
    """True with probability ``share`` (exact: integers, no float compare)."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    return rng.randrange(share.denominator) < share.numerator


class Simulator:
    """One run of a :class:`Scenario` through a :class:`PoolEngine`.

    ``record_ops`` keeps the operations asked of the engine, as tuples:

    ===================================  ====================================
    ``("pay", id, member, B, I, C)``     ``store.add(Lot(...))``,
                                         ``engine.add_pending(lot)``
    ``("mint", id)``                     ``engine.mint(lot)``
    ``("release", id)``                  ``engine.daily_release(lot)``
    ``("inject", X)``                    ``engine.inject(X)``
    ``("sell", member, [ids], n)``       ``engine.sell(member, lots, n)``
    ===================================  ====================================
    """

    def __init__(
        self,
        scenario,
        params=None,
        snapshot=None,
        *,
        store_class=IndexedLotStore,
        keep_events=False,
        record_ops=False,
    ):
        self.scenario = scenario
        self.params = params or PoolParams()
        errors = self.params.errors()
        if errors:
            raise ValueError(f"bad pool parameters: {errors}")
        snapshot = snapshot or Snapshot()
        self.store = store_class(self.params)
        self.engine = PoolEngine(self.params, snapshot.state(), self.store)
        self.keep_events = keep_events
        self.events = []
        self.ops = [] if record_ops else None
        self.rng = random.Random(scenario.seed)
        self.members = {}
        self.member_ids = []  # in order of joining, for repeat draws
        self.pending = {}  # settle day -> lot ids
        self.locked = []  # ids of lots that may hold locked units
        self.holding = set()  # members who may have an open lot
        self.totals = {"orders": 0, "injected": 0, "exits": 0, "sells": 0}
        self.cum_spent = self.cum_paid = 0
        for lot in snapshot.lots:
            self._load(Lot(**asdict(lot)))
        self.next_lot = max(self.store.lots, default=0) + 1
        self.next_member = max(self.members, default=0) + 1
        self.stall = 0

    def _load(self, lot):
        self.store.add(lot)
        tally = self._member(lot.member_id)
        if lot.state != LOT_CANCELLED:
            tally.spent += lot.basis
            tally.paid += lot.paid
            self.cum_spent += lot.basis
            self.cum_paid += lot.paid
        tally.lots.append(lot.id)
        if lot.state == LOT_PENDING:
            self.pending.setdefault(0, []).append(lot.id)
        if lot.locked:
            self.locked.append(lot.id)
        if lot.state == LOT_OPEN:
            self.holding.add(lot.member_id)

    def _member(self, member_id):
        tally = self.members.get(member_id)
        if tally is None:
            tally = self.members[member_id] = MemberTally()
            self.member_ids.append(member_id)
        return tally

    def _op(self, *op):
        if self.ops is not None:
            self.ops.append(op)

    # ------------------------------------------------------------------
    def run(self):
        rows = [self.day(day, count) for day, count in enumerate(self._counts())]
        summary = summarize(
            self.members, len(rows), self.totals, self.engine.state, self.params
        )
        return SimulationResult(
            scenario=self.scenario,
            params=self.params,
            days=rows,
            summary=summary,
            members=self.members,
            events=self.events,
            ops=self.ops or [],
            state=self.engine.state,
            lots=self.store.lots,
        )

    def _counts(self):
        return self.scenario.order_counts()

    def day(self, day, orders):
        """Simulate one day; return its :class:`DayRow`."""
        scenario, engine = self.scenario, self.engine
        row = DayRow(day=day)
        start_price = engine.price()
        if self.params.vesting_rate > 0:
            self._release()  # before today's mints: they vest from tomorrow
        for lot_id in self.pending.pop(day, ()):
            self._mint(self.store.lots[lot_id])
        for _ in range(orders):
            self._order(row, day)
        amount = scenario.injection(day)
        if amount > 0:
            engine.inject(amount)
            self._op("inject", amount)
            row.injected = amount
            self.totals["injected"] += amount
        self.stall = 0 if engine.price() > start_price else self.stall + 1
        if (
            scenario.run_after_days is not None
            and scenario.run_share > 0
            and self.stall >= scenario.run_after_days
        ):
            row.run = True
            self._run(row)
            if engine.price() > start_price:
                self.stall = 0
        self._close_day(row)
        return row

    def _mint(self, lot):
        self.engine.mint(lot)
        self._op("mint", lot.id)
        if lot.locked:
            self.locked.append(lot.id)
        if lot.state == LOT_OPEN:
            self.holding.add(lot.member_id)

    def _release(self):
        lots, keep = self.store.lots, []
        for lot_id in self.locked:
            lot = lots[lot_id]
            if lot.state == LOT_OPEN and lot.locked:
                self.engine.daily_release(lot)
                self._op("release", lot_id)
                if lot.locked:
                    keep.append(lot_id)
        self.locked = keep

    def _order(self, row, day):
        scenario = self.scenario
        if self.member_ids and _draw(self.rng, scenario.repeat_share):
            member_id = self.member_ids[self.rng.randrange(len(self.member_ids))]
        else:
            member_id = self.next_member
            self.next_member += 1
            row.new_members += 1
        tally = self._member(member_id)
        basis, inflow = scenario.order_amount, scenario.inflow
        lot = Lot(self.next_lot, member_id, basis, inflow, self.params.cap(basis))
        self.next_lot += 1
        self.store.add(lot)
        self.engine.add_pending(lot)
        self._op("pay", lot.id, member_id, basis, inflow, lot.cap)
        tally.lots.append(lot.id)
        tally.spent += basis
        row.orders += 1
        row.spent += basis
        row.inflow += inflow
        self.totals["orders"] += 1
        if scenario.settle_after_days:
            self.pending.setdefault(day + scenario.settle_after_days, []).append(lot.id)
        else:
            self._mint(lot)

    def _open_lots(self, tally):
        lots = self.store.lots
        tally.lots = [
            lot_id
            for lot_id in tally.lots
            if lots[lot_id].state in (LOT_OPEN, LOT_PENDING)
        ]
        return [lots[lot_id] for lot_id in tally.lots if lots[lot_id].state == LOT_OPEN]

    def _holders(self):
        """Members with free units, by id; forgets those with no open lot."""
        holders = []
        for member_id in sorted(self.holding):
            lots = self._open_lots(self.members[member_id])
            if not lots:
                self.holding.discard(member_id)
            elif any(lot.free > 0 for lot in lots):
                holders.append(member_id)
        return holders

    def _run(self, row):
        holders = self._holders()
        row.holders = len(holders)
        count = math.ceil(self.scenario.run_share * len(holders))
        for member_id in self.rng.sample(holders, count):
            lots = self._open_lots(self.members[member_id])
            units = sum(lot.free for lot in lots)
            if units <= 0:  # exited in an earlier seller's cascade
                continue
            try:
                self.engine.sell(member_id, lots, units)
            except PoolError as error:
                if error.code != "zero_payout":
                    raise
                continue
            self._op("sell", member_id, [lot.id for lot in lots], units)

    def _close_day(self, row):
        engine, state = self.engine, self.engine.state
        for event in engine.events:
            if event.kind not in ("exit", "sell"):
                continue
            self.members[event.member_id].paid += event.wallet
            row.paid += event.wallet
            if event.kind == "exit":
                row.exits += 1
                row.exit_paid += event.wallet
            else:
                row.sells += 1
                row.sell_paid += event.wallet
        if self.keep_events:
            self.events.extend(engine.events)
        engine.events = []
        self.totals["exits"] += row.exits
        self.totals["sells"] += row.sells
        self.cum_spent += row.spent
        self.cum_paid += row.paid
        row.cum_spent, row.cum_paid = self.cum_spent, self.cum_paid
        row.price = engine.price()
        row.fund, row.supply = state.fund, state.supply
        row.reserve, row.pending = state.reserve, state.pending


def replay(params, ops, store, state=None):
    """Run operations recorded by a simulation (``record_ops``) through a
    plain :class:`~.pool.PoolEngine` over ``store`` (its lots included),
    from ``state`` (default: an empty pool); :return: the engine.

    The reference the simulator is checked against (tests) and timed against
    (benchmark): no bookkeeping of members, days or summaries."""
    engine = PoolEngine(params, state or PoolState(), store)
    lots = store.lots
    for op in ops:
        kind = op[0]
        if kind == "pay":
            _kind, lot_id, member_id, basis, inflow, cap = op
            engine.add_pending(store.add(Lot(lot_id, member_id, basis, inflow, cap)))
        elif kind == "mint":
            engine.mint(lots[op[1]])
        elif kind == "release":
            engine.daily_release(lots[op[1]])
        elif kind == "inject":
            engine.inject(op[1])
        elif kind == "sell":
            _kind, member_id, lot_ids, units = op
            engine.sell(member_id, [lots[lot_id] for lot_id in lot_ids], units)
        else:
            raise ValueError(f"unknown operation: {op!r}")
    return engine


def simulate(scenario, params=None, snapshot=None, **options):
    """Run ``scenario`` (see :class:`Simulator` for ``options``)."""
    return Simulator(scenario, params, snapshot, **options).run()


# ----------------------------------------------------------------------
# presets
# ----------------------------------------------------------------------
def steady(**overrides):
    """20 orders of 1000.00 a day at 30 %, half of them by returning members."""
    return Scenario(
        **{
            "days": 365,
            "orders_per_day": 20,
            "repeat_share": Fraction(1, 2),
            **overrides,
        }
    )


def growth_then_stop(**overrides):
    """5 orders a day growing 2 % a day for 180 days, then none for 185."""
    return Scenario(
        **{
            "days": 365,
            "orders_per_day": 5,
            "growth_pct": 2,
            "stop_day": 180,
            "repeat_share": Fraction(1, 2),
            **overrides,
        }
    )


def stop_today(**overrides):
    """No new order from today: what a snapshot's members get from here on."""
    return Scenario(**{"days": 90, "stop_day": 0, **overrides})


def run_on_pool(**overrides):
    """60 days of steady orders, then none; after 3 flat days a quarter of the
    holders sell everything, again every 3 flat days."""
    return Scenario(
        **{
            "days": 120,
            "orders_per_day": 20,
            "stop_day": 60,
            "repeat_share": Fraction(1, 2),
            "run_after_days": 3,
            "run_share": Fraction(1, 4),
            **overrides,
        }
    )


def with_subsidies(**overrides):
    """Steady orders plus 1000.00 of platform money injected every day."""
    return Scenario(
        **{
            "days": 365,
            "orders_per_day": 20,
            "repeat_share": Fraction(1, 2),
            "injection_per_day": 100000,
            **overrides,
        }
    )


#: preset name -> function(**overrides) -> Scenario
PRESETS = {
    "steady": steady,
    "growth_then_stop": growth_then_stop,
    "stop_today": stop_today,
    "run": run_on_pool,
    "subsidies": with_subsidies,
}


def preset(name, **overrides):
    """The scenario of preset ``name`` with ``overrides`` applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset: {name}")
    return PRESETS[name](**overrides)
