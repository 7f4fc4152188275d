"""Pool arithmetic of SPEC section 2, with no ORM in it.

Units, all integers:

=============  ======================================================
quantity       unit
=============  ======================================================
money          minor units of the company currency (cents for CNY)
points         1e-4 point (``POINT_SCALE`` units make one point)
price          exact :class:`fractions.Fraction`, major currency per point
=============  ======================================================

The engine works on a :class:`PoolState` and on :class:`Lot` objects that a
:class:`LotStore` hands out; it mutates them and records :class:`Event` objects.
The ORM layer reads the pool row under its lock, runs one engine operation,
then persists state, lots and events.  The hypothesis tests run the very same
engine over an in-memory store.

Rounding always favours the pool: units minted, payouts and refund releases are
floored, realized gross and debts are ceiled, so the dust stays in the fund.
"""

import math
from dataclasses import dataclass, field
from fractions import Fraction

POINT_DIGITS = 4
POINT_SCALE = 10**POINT_DIGITS

LOT_PENDING = "pending"
LOT_OPEN = "open"
LOT_CLOSED = "closed"
LOT_EXITED = "exited"
LOT_CANCELLED = "cancelled"
#: lots whose order is settled (minted): what sales-based conditions count
LOT_SETTLED = (LOT_OPEN, LOT_CLOSED, LOT_EXITED)


class PoolError(ValueError):
    """Bad input to a pool operation; ``code`` names the rule, ``values`` its data.

    The ORM layer turns it into a translated ``UserError``.
    """

    def __init__(self, code, **values):
        super().__init__(code, values)
        self.code = code
        self.values = values


def floor(value):
    return math.floor(value)


def ceil(value):
    return math.ceil(value)


def to_fraction(value):
    """Exact fraction of a decimal given as str, int, Decimal or Fraction.

    Floats are refused on purpose: convert them at the ORM boundary with ``str``.
    """
    if isinstance(value, float):
        raise TypeError("floats are not accepted by the pool core")
    return Fraction(value)


@dataclass(frozen=True)
class PoolParams:
    """Parameters of one pool (SPEC section 2).

    :param digits: decimal places of the currency (2 for CNY, 0 for JPY)
    :param initial_price: ``p0``, price before the first mint
    :param points_ratio: ``alpha``, share of the inflow minted as points value
    :param retention: ``r``, share of a sale's gross value that stays in the pool
    :param exit_multiple: ``m``, cap of a lot as a multiple of its basis
    :param reserve_release: share of each mint's inflow moved back from ``Z``
    :param vesting_rate: share of a lot's minted units released per day
        (0: units are free at once)
    """

    digits: int = 2
    initial_price: Fraction = Fraction(1)
    points_ratio: Fraction = Fraction(7, 10)
    retention: Fraction = Fraction(1, 5)
    exit_multiple: Fraction = Fraction(3)
    reserve_release: Fraction = Fraction(1, 10)
    vesting_rate: Fraction = Fraction(0)

    @property
    def scale(self):
        return 10**self.digits

    def errors(self):
        """List of ``(code, values)`` for every broken rule; empty when valid."""
        errors = []
        if self.initial_price <= 0:
            errors.append(("initial_price", {"value": self.initial_price}))
        if not 0 < self.points_ratio <= 1:
            errors.append(("points_ratio", {"value": self.points_ratio}))
        if not 0 <= self.retention < 1:
            errors.append(("retention", {"value": self.retention}))
        if self.exit_multiple < 1:
            errors.append(("exit_multiple", {"value": self.exit_multiple}))
        if not 0 <= self.reserve_release <= 1:
            errors.append(("reserve_release", {"value": self.reserve_release}))
        if not 0 <= self.vesting_rate <= 1:
            errors.append(("vesting_rate", {"value": self.vesting_rate}))
        return errors

    def warnings(self):
        """Compliance warnings of SPEC section 6 that concern the pool."""
        warnings = []
        if (1 - self.retention) * self.exit_multiple > 1:
            warnings.append(
                ("static_return", {"value": (1 - self.retention) * self.exit_multiple})
            )
        return warnings

    def cap(self, basis):
        """Cap ``C = m * B`` of a lot, floored (a lower cap favours the pool)."""
        return floor(self.exit_multiple * basis)


@dataclass
class PoolState:
    """Fund ``P``, supply ``S``, reserve ``Z`` and pending inflow, in integers."""

    fund: int = 0
    supply: int = 0
    reserve: int = 0
    pending: int = 0
    last_price: Fraction | None = None

    def price(self, params):
        """``P / S`` exactly; the last price (or ``p0``) while the supply is 0."""
        if self.supply == 0:
            return (
                self.last_price if self.last_price is not None else params.initial_price
            )
        return Fraction(self.fund * POINT_SCALE, self.supply * params.scale)


@dataclass
class Lot:
    """One settled order (line group) of one member (SPEC section 2)."""

    id: int
    member_id: int
    basis: int
    inflow: int
    cap: int
    minted: int = 0
    held: int = 0
    locked: int = 0
    realized: int = 0
    paid: int = 0
    state: str = LOT_PENDING
    #: share of the *original* order refunded so far (0 to 1, exact)
    refunded: Fraction = Fraction(0)

    def trigger(self, params):
        """Exit trigger price ``t = (C - R) / u`` (exact), None if not open."""
        if self.state != LOT_OPEN or self.held <= 0:
            return None
        return Fraction(
            (self.cap - self.realized) * POINT_SCALE, self.held * params.scale
        )

    @property
    def free(self):
        return self.held - self.locked


@dataclass
class Event:
    """One ledger line: what changed, at which price, for whom."""

    kind: str
    member_id: int | None = None
    lot_id: int | None = None
    points: int = 0
    fund: int = 0
    reserve: int = 0
    pending: int = 0
    wallet: int = 0
    gross: int = 0
    price_before: Fraction = Fraction(0)
    price_after: Fraction = Fraction(0)
    detail: list = field(default_factory=list)


class LotStore:
    """Where the engine finds lots; the ORM layer implements it with SQL.

    ``due_lots(price, limit)`` returns open lots whose exit trigger may be at
    most ``price``, ordered by trigger then id; a superset is allowed (the
    engine re-checks each lot exactly).  ``save(lot)`` persists a changed lot.
    """

    def due_lots(self, price, limit):
        raise NotImplementedError

    def save(self, lot):
        raise NotImplementedError


class MemoryLotStore(LotStore):
    """In-memory store, for tests and the simulator: a scan is fine there."""

    def __init__(self, params):
        self.params = params
        self.lots = {}

    def add(self, lot):
        self.lots[lot.id] = lot
        return lot

    def due_lots(self, price, limit):
        due = [
            (lot.trigger(self.params), lot.id, lot)
            for lot in self.lots.values()
            if lot.state == LOT_OPEN and lot.trigger(self.params) <= price
        ]
        due.sort(key=lambda item: (item[0], item[1]))
        return [lot for _t, _id, lot in due[:limit]]

    def save(self, lot):
        self.lots[lot.id] = lot


def units_for(amount, price, params):
    """Point units worth ``amount`` minor units at ``price``, floored."""
    return floor(Fraction(amount * POINT_SCALE) / (price * params.scale))


def value_of(units, price, params):
    """Exact money value (minor units, Fraction) of ``units`` at ``price``."""
    return Fraction(units, POINT_SCALE) * price * params.scale


def units_for_payout(cash, price, params):
    """Point units to sell for a net payout of at least ``cash``, ceiled."""
    net_price = (1 - params.retention) * price * params.scale
    return ceil(Fraction(cash * POINT_SCALE) / net_price)


def sell_quote(units, price, params):
    """Gross value and payout of selling ``units`` at ``price`` (SPEC 2, sell).

    The same formulas as :meth:`PoolEngine.sell`, for a confirmation screen:
    ``gross = units * price`` and ``payout = floor((1 - r) * gross)``.

    :return: ``(gross, payout)``: gross exact (Fraction), payout floored, in
        minor units
    """
    gross = value_of(units, price, params)
    return gross, floor((1 - params.retention) * gross)


def refund_share(refunded, whole):
    """The share of an order a refund reverses (what :meth:`PoolEngine.refund`
    takes): ``refunded / whole`` of the untaxed amounts, exact, at most 1
    (refunds beyond the order reverse it once); 0 when either is not positive.

    >>> refund_share(Fraction(2500), Fraction(10000)), refund_share(120, 100)
    (Fraction(1, 4), Fraction(1, 1))
    >>> refund_share(0, 100), refund_share(50, 0)
    (Fraction(0, 1), Fraction(0, 1))
    """
    refunded, whole = to_fraction(refunded), to_fraction(whole)
    if refunded <= 0 or whole <= 0:
        return Fraction(0)
    return min(Fraction(1), refunded / whole)


class PoolEngine:
    """Runs pool events on one state; every method records its events.

    Usage (one operation, under the pool lock in the ORM layer)::

        engine = PoolEngine(params, state, store)
        engine.mint(lot)          # also runs the exit cascade
        engine.events             # -> ledger lines to write
    """

    BATCH = 500

    def __init__(self, params, state, store):
        self.params = params
        self.state = state
        self.store = store
        self.events = []

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def price(self):
        return self.state.price(self.params)

    def _record(self, event, price_before):
        state = self.state
        # the last price first: with S = 0 the price *is* the last price
        if state.supply > 0:
            state.last_price = self.price()
        elif state.last_price is None or state.last_price < price_before:
            state.last_price = price_before
        event.price_after = self.price()
        self.events.append(event)
        if state.supply == 0 and state.fund > 0:
            # dormancy: nobody holds points, the residue waits in the reserve
            self.events.append(
                Event(
                    kind="dormancy",
                    fund=-state.fund,
                    reserve=state.fund,
                    price_before=event.price_after,
                    price_after=event.price_after,
                )
            )
            state.reserve += state.fund
            state.fund = 0
        return event

    # ------------------------------------------------------------------
    # events
    # ------------------------------------------------------------------
    def add_pending(self, lot):
        """Order paid: the inflow waits as pending; nothing is minted."""
        if lot.inflow < 0 or lot.basis < 0:
            raise PoolError("negative_amount", amount=min(lot.inflow, lot.basis))
        before = self.price()
        self.state.pending += lot.inflow
        return self._record(
            Event(
                "pending",
                lot.member_id,
                lot.id,
                pending=lot.inflow,
                price_before=before,
            ),
            before,
        )

    def mint(self, lot):
        """Settlement: ``u0 = floor(alpha * I / p)`` at the pre-inflow price."""
        if lot.state != LOT_PENDING:
            raise PoolError("lot_not_pending", lot=lot.id)
        params, state = self.params, self.state
        before = self.price()
        units = units_for(params.points_ratio * lot.inflow, before, params)
        back = min(state.reserve, floor(params.reserve_release * lot.inflow))
        state.fund += lot.inflow + back
        state.reserve -= back
        state.supply += units
        state.pending -= lot.inflow
        lot.minted = lot.held = units
        lot.locked = units if params.vesting_rate > 0 else 0
        lot.state = LOT_OPEN if units > 0 else LOT_CLOSED
        self.store.save(lot)
        self._record(
            Event(
                "mint",
                lot.member_id,
                lot.id,
                points=units,
                fund=lot.inflow + back,
                reserve=-back,
                pending=-lot.inflow,
                price_before=before,
            ),
            before,
        )
        self.cascade()
        return units

    def sell(self, member_id, lots, units):
        """Sell ``units`` free units of one member, oldest lots first.

        :param lots: the member's open lots, oldest first
        :return: the sell event (its ``wallet`` is the payout)
        """
        if units <= 0:
            raise PoolError("non_positive_points", points=units)
        if len({lot.id for lot in lots}) != len(lots) or any(
            lot.member_id != member_id for lot in lots
        ):
            raise PoolError("bad_lots", member=member_id)
        free = sum(lot.free for lot in lots if lot.state == LOT_OPEN)
        if units > free:
            raise PoolError(
                "not_enough_points",
                points=units,
                free=free,
                locked=sum(lot.locked for lot in lots),
            )
        params, state = self.params, self.state
        before = self.price()
        gross, payout = sell_quote(units, before, params)
        if payout <= 0:
            # a sale that pays nothing would only leave a line with no money in it
            raise PoolError("zero_payout", points=units)
        remaining, paid, detail = units, 0, []
        touched = []
        for lot in lots:
            if remaining == 0:
                break
            take = min(remaining, lot.free)
            if take <= 0 or lot.state != LOT_OPEN:
                continue
            share = value_of(take, before, params)
            lot_paid = floor((1 - params.retention) * share)
            lot.held -= take
            lot.realized += ceil(share)
            lot.paid += lot_paid
            paid += lot_paid
            remaining -= take
            touched.append(lot)
            detail.append(
                {"lot": lot.id, "units": take, "gross": ceil(share), "paid": lot_paid}
            )
        # per-lot floors may sum below the total floor: the last lot takes the rest
        touched[-1].paid += payout - paid
        detail[-1]["paid"] += payout - paid
        for lot in touched:
            if lot.held == 0:
                lot.state = LOT_CLOSED
            self.store.save(lot)
        state.fund -= payout
        state.supply -= units
        event = self._record(
            Event(
                "sell",
                member_id,
                touched[0].id if len(touched) == 1 else None,
                points=-units,
                fund=-payout,
                wallet=payout,
                gross=ceil(gross),
                price_before=before,
                detail=detail,
            ),
            before,
        )
        self.cascade()
        return event

    def exit(self, lot):
        """Forced exit at the cap: ``V = min(C - R, u * p)``, pays ``(1 - r) V``."""
        params, state = self.params, self.state
        before = self.price()
        value = min(
            Fraction(lot.cap - lot.realized), value_of(lot.held, before, params)
        )
        value = max(value, Fraction(0))
        payout = floor((1 - params.retention) * value)
        units = lot.held
        state.fund -= payout
        state.supply -= units
        lot.realized += ceil(value)
        lot.paid += payout
        lot.held = lot.locked = 0
        lot.state = LOT_EXITED
        self.store.save(lot)
        return self._record(
            Event(
                "exit",
                lot.member_id,
                lot.id,
                points=-units,
                fund=-payout,
                wallet=payout,
                gross=ceil(value),
                price_before=before,
            ),
            before,
        )

    def cascade(self):
        """Exit every due lot, lowest trigger first (ties by id), repeatedly."""
        exits = 0
        while True:
            progressed = False
            for lot in self.store.due_lots(self.price(), self.BATCH):
                trigger = lot.trigger(self.params)
                if trigger is None or trigger > self.price():
                    continue
                self.exit(lot)
                exits += 1
                progressed = True
            if not progressed:
                return exits

    def inject(self, amount):
        """Platform money into the fund (into the reserve while S = 0)."""
        if amount <= 0:
            raise PoolError("non_positive_amount", amount=amount)
        state = self.state
        before = self.price()
        if state.supply == 0:
            state.reserve += amount
            event = Event("inject", reserve=amount, price_before=before)
        else:
            state.fund += amount
            event = Event("inject", fund=amount, price_before=before)
        self._record(event, before)
        self.cascade()
        return event

    def release(self, lot, units):
        """Vesting: locked units become free; P and S do not change."""
        units = min(units, lot.locked)
        if units <= 0 or lot.state != LOT_OPEN:
            return None
        before = self.price()
        lot.locked -= units
        self.store.save(lot)
        return self._record(
            Event(
                "release", lot.member_id, lot.id, price_before=before, detail=[units]
            ),
            before,
        )

    def daily_release(self, lot):
        """Units released today for ``lot``: ``ceil(vesting_rate * minted)``."""
        return self.release(lot, ceil(self.params.vesting_rate * lot.minted))

    def refund(self, lot, fraction):
        """Refund or cancellation of ``fraction`` of a lot's *original* order.

        ``fraction`` is a share of the order as paid (a credit note over its
        invoice), so any sequence of refunds that adds up to the whole order
        leaves nothing of the lot, and a refund never takes more than what is
        left (``lot.refunded`` keeps the share refunded so far).  The part of
        what is left that this refund takes is ``g = f / (1 - refunded)``:

        ==============  =============================================
        before          pending lot: ``g`` of the pending inflow is
        settlement      dropped; nothing else
        after           ``g`` of the held units are burned; the fund
        settlement      releases ``min(g * I, floor(burned * p))`` (the
                        price cannot fall); the member owes ``g`` of the
                        net payouts received, deducted from the wallet.
                        That debt is the company's (revenue contra),
                        never the pool's: it does not raise the price.
        ==============  =============================================

        :return: the ``refund`` or ``pending_cancel`` event
        """
        fraction = to_fraction(fraction)
        if not 0 < fraction <= 1:
            raise PoolError("bad_fraction", fraction=fraction)
        if lot.state == LOT_CANCELLED:
            raise PoolError("lot_cancelled", lot=lot.id)
        left = 1 - lot.refunded
        if left <= 0:
            raise PoolError("lot_refunded", lot=lot.id)
        taken = min(fraction, left)
        share = taken / left  # of what is left of the lot
        lot.refunded += taken
        params, state = self.params, self.state
        before = self.price()

        def keep(value):
            """What stays of ``value`` (floored), so the shares add up exactly."""
            return floor((1 - share) * value)

        # basis and cap shrink by the ceiling (a lower cap favours the pool);
        # the inflow given back by the floor (the dust stays); at g = 1 both
        # take everything that is left, so the shares add up to the order
        dropped_basis = lot.basis - keep(lot.basis)
        dropped_cap = lot.cap - keep(lot.cap)
        dropped_inflow = floor(share * lot.inflow)
        if lot.state == LOT_PENDING:
            state.pending -= dropped_inflow
            lot.inflow -= dropped_inflow
            lot.basis -= dropped_basis
            lot.cap -= dropped_cap
            if lot.refunded == 1:
                lot.state = LOT_CANCELLED
            self.store.save(lot)
            return self._record(
                Event(
                    "pending_cancel",
                    lot.member_id,
                    lot.id,
                    pending=-dropped_inflow,
                    price_before=before,
                ),
                before,
            )
        burned = lot.held - keep(lot.held)  # ceiled
        release = min(dropped_inflow, floor(value_of(burned, before, params)))
        debt = lot.paid - keep(lot.paid)  # ceiled
        state.supply -= burned
        state.fund -= release
        lot.held -= burned
        lot.locked = min(lot.locked, lot.held)
        lot.paid -= debt
        lot.realized -= floor(share * lot.realized)
        lot.inflow -= dropped_inflow
        lot.basis -= dropped_basis
        lot.cap -= dropped_cap
        if lot.held == 0 and lot.state == LOT_OPEN:
            lot.state = LOT_CLOSED
        self.store.save(lot)
        event = self._record(
            Event(
                "refund",
                lot.member_id,
                lot.id,
                points=-burned,
                fund=-release,
                wallet=-debt,
                gross=release,
                price_before=before,
                detail=[{"burned": burned, "release": release, "debt": debt}],
            ),
            before,
        )
        self.cascade()
        return event
