"""Property tests of the pool core: random histories keep SPEC section 2 invariants.

A hypothesis state machine drives one :class:`PoolEngine` over an in-memory
store with random parameters and random operations (order paid, settlement,
sell, injection, refund, vesting release, refused requests).  After every
operation it checks the invariants against the engine's own events and
against an independent tally of what the test asked for.
"""

import copy
from fractions import Fraction
from math import ceil, floor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from odoo.tests import BaseCase, tagged

from ..core.pool import (
    LOT_CANCELLED,
    LOT_CLOSED,
    LOT_EXITED,
    LOT_OPEN,
    LOT_PENDING,
    POINT_SCALE,
    Lot,
    MemoryLotStore,
    PoolEngine,
    PoolError,
    PoolParams,
    PoolState,
    units_for_payout,
    value_of,
)

MEMBERS = (1, 2, 3, 4)
MACHINE_SETTINGS = settings(
    max_examples=200,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def fractions(low, high, denominator):
    return st.fractions(min_value=low, max_value=high, max_denominator=denominator)


params_strategy = st.builds(
    PoolParams,
    digits=st.sampled_from([0, 2]),
    initial_price=st.sampled_from(
        [Fraction(1), Fraction(1, 2), Fraction(3), Fraction(7, 100)]
    ),
    points_ratio=fractions(Fraction(1, 100), Fraction(1), 100),
    retention=fractions(Fraction(0), Fraction(9, 10), 100),
    exit_multiple=fractions(Fraction(1), Fraction(5), 20),
    vesting_rate=st.one_of(
        st.just(Fraction(0)), fractions(Fraction(1, 10), Fraction(1), 20)
    ),
)
rate_strategy = st.one_of(
    st.sampled_from([Fraction(3, 10), Fraction(16, 100), Fraction(1, 5)]),
    fractions(Fraction(0), Fraction(1), 100),
)
refund_fraction_strategy = st.integers(1, 10).flatmap(
    lambda d: st.integers(1, d).map(lambda n: Fraction(n, d))
)


class RecordingEngine(PoolEngine):
    """The engine, noting each exiting lot's trigger and remaining cap first."""

    def __init__(self, *args):
        super().__init__(*args)
        self.exit_log = []

    def exit(self, lot):
        self.exit_log.append(
            {
                "lot": lot.id,
                "trigger": lot.trigger(self.params),
                "remaining": lot.cap - lot.realized,
                "price": self.price(),
                "event": len(self.events),
            }
        )
        return super().exit(lot)


class PoolMachine(RuleBasedStateMachine):
    """Random pool histories; ``check_*`` invariants run after every step."""

    @initialize(params=params_strategy)
    def start(self, params):
        self.params = params
        self.store = MemoryLotStore(params)
        self.engine = RecordingEngine(params, PoolState(), self.store)
        self.next_id = 1
        # what the test asked for, tallied independently of the events
        self.minted_inflow = 0
        self.injected = 0
        self.releases = 0
        self.debts = 0
        self.sell_payouts = 0
        self.exit_payouts = 0
        self.checked_events = 0
        self.last_price = params.initial_price

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def lots(self, *states):
        return [
            lot for lot in self.store.lots.values() if not states or lot.state in states
        ]

    def member_lots(self, member_id):
        return sorted(
            (lot for lot in self.lots(LOT_OPEN) if lot.member_id == member_id),
            key=lambda lot: lot.id,
        )

    def free_of(self, member_id):
        return sum(lot.free for lot in self.member_lots(member_id))

    def sellers(self):
        return [m for m in MEMBERS if self.free_of(m) > 0]

    def money_per_unit(self):
        """Price in minor units per 1e-4 point, computed here from P and S."""
        state = self.engine.state
        if state.supply:
            return Fraction(state.fund, state.supply)
        return self.engine.price() * self.params.scale / POINT_SCALE

    def snapshot(self):
        return copy.deepcopy((self.engine.state, self.store.lots, self.engine.events))

    def assert_refused(self, code, call, *args):
        before = self.snapshot()
        try:
            call(*args)
        except PoolError as error:
            assert error.code == code, (error.code, code)
        else:
            raise AssertionError(f"{code} expected")
        assert self.snapshot() == before, "a refused operation changed the pool"

    # ------------------------------------------------------------------
    # operations
    # ------------------------------------------------------------------
    def pay(self, member, basis, rate):
        inflow = floor(basis * rate)
        lot = self.store.add(
            Lot(self.next_id, member, basis, inflow, self.params.cap(basis))
        )
        self.next_id += 1
        event = self.engine.add_pending(lot)
        assert (event.kind, event.pending, event.fund, event.points) == (
            "pending",
            inflow,
            0,
            0,
        )
        return lot

    def mint(self, lot):
        state = self.engine.state
        units = floor(self.params.points_ratio * lot.inflow / self.money_per_unit())
        back = min(state.reserve, floor(self.params.reserve_release * lot.inflow))
        start = len(self.engine.events)
        self.minted_inflow += lot.inflow
        assert self.engine.mint(lot) == units
        mint = self.engine.events[start]
        assert (mint.kind, mint.points, mint.fund, mint.reserve, mint.pending) == (
            "mint",
            units,
            lot.inflow + back,
            -back,
            -lot.inflow,
        )
        assert lot.minted == units
        if lot.state == LOT_OPEN:  # it may exit in its own mint's cascade
            assert lot.locked == (units if self.params.vesting_rate else 0)

    @rule(
        member=st.sampled_from(MEMBERS), basis=st.integers(1, 10**7), rate=rate_strategy
    )
    def order_paid(self, member, basis, rate):
        self.pay(member, basis, rate)

    @rule(
        member=st.sampled_from(MEMBERS), basis=st.integers(1, 10**7), rate=rate_strategy
    )
    def order_paid_and_settled(self, member, basis, rate):
        """Return window 0: settlement right after payment."""
        self.mint(self.pay(member, basis, rate))

    @precondition(lambda self: self.lots(LOT_PENDING))
    @rule(data=st.data())
    def settle(self, data):
        self.mint(
            data.draw(
                st.sampled_from(sorted(self.lots(LOT_PENDING), key=lambda lot: lot.id))
            )
        )

    @precondition(lambda self: self.sellers())
    @rule(data=st.data())
    def sell(self, data):
        member = data.draw(st.sampled_from(self.sellers()))
        lots = self.member_lots(member)
        free = sum(lot.free for lot in lots)
        order = [lot.id for lot in lots if lot.free > 0]
        units = data.draw(st.one_of(st.integers(1, free), st.just(free)))
        gross = units * self.money_per_unit()
        payout = floor((1 - self.params.retention) * gross)
        if payout == 0:
            self.assert_refused("zero_payout", self.engine.sell, member, lots, units)
            return
        event = self.engine.sell(member, lots, units)
        # one request, one price: not a sum of per-lot floors
        assert (event.kind, event.wallet, event.fund, event.points) == (
            "sell",
            payout,
            -payout,
            -units,
        )
        assert sum(d["paid"] for d in event.detail) == payout
        assert sum(d["units"] for d in event.detail) == units
        taken = [d["lot"] for d in event.detail]
        assert taken == order[: len(taken)], (
            "not oldest lots first (skipping locked ones)"
        )
        self.sell_payouts += payout

    @rule(data=st.data())
    def inject(self, data):
        fund = self.engine.state.fund
        amount = data.draw(
            st.one_of(
                st.integers(1, 10**7), st.integers(1, 4).map(lambda k: k * max(fund, 1))
            ),
            label="amount",
        )
        dormant = self.engine.state.supply == 0
        event = self.engine.inject(amount)
        assert (event.fund, event.reserve) == ((0, amount) if dormant else (amount, 0))
        self.injected += amount

    def refundable(self):
        return sorted(
            (
                lot
                for lot in self.lots()
                if lot.state != LOT_CANCELLED and lot.refunded < 1
            ),
            key=lambda lot: lot.id,
        )

    def expect_refund(self, lot, fraction):
        """Apply a refund of ``fraction`` of the original order and check it."""
        left = 1 - lot.refunded
        share = min(fraction, left) / left
        if lot.state == LOT_PENDING:
            dropped = floor(share * lot.inflow)
            event = self.engine.refund(lot, fraction)
            assert (event.kind, event.pending, event.fund, event.points) == (
                "pending_cancel",
                -dropped,
                0,
                0,
            )
            assert lot.state == (LOT_CANCELLED if lot.refunded == 1 else LOT_PENDING)
            return event
        burned = lot.held - floor((1 - share) * lot.held)
        release = min(floor(share * lot.inflow), floor(burned * self.money_per_unit()))
        debt = lot.paid - floor((1 - share) * lot.paid)
        event = self.engine.refund(lot, fraction)
        assert event.detail == [{"burned": burned, "release": release, "debt": debt}]
        # the debt is the company's: it never enters the fund (SPEC 2)
        assert (event.points, event.fund, event.wallet) == (-burned, -release, -debt)
        self.releases += release
        self.debts += debt
        return event

    @precondition(lambda self: self.refundable())
    @rule(data=st.data(), fraction=refund_fraction_strategy)
    def refund(self, data, fraction):
        self.expect_refund(data.draw(st.sampled_from(self.refundable())), fraction)

    @precondition(lambda self: [lot for lot in self.refundable() if not lot.refunded])
    @rule(data=st.data(), parts=st.lists(st.integers(1, 9), min_size=1, max_size=4))
    def refund_in_parts(self, data, parts):
        """Credit notes that add up to the whole order leave nothing of the lot."""
        lot = data.draw(
            st.sampled_from([lot for lot in self.refundable() if not lot.refunded])
        )
        total = sum(parts)
        for part in parts:
            self.expect_refund(lot, Fraction(part, total))
        assert lot.refunded == 1
        assert (lot.held, lot.locked, lot.inflow, lot.basis, lot.cap) == (0, 0, 0, 0, 0)
        assert lot.paid == 0, "every payout of a refunded order is owed back"
        assert lot.state in (LOT_CANCELLED, LOT_CLOSED, LOT_EXITED), lot.state
        self.assert_refused(
            "lot_cancelled" if lot.state == LOT_CANCELLED else "lot_refunded",
            self.engine.refund,
            lot,
            Fraction(1, 2),
        )

    @rule(
        data=st.data(),
        kind=st.sampled_from(
            [
                "sell",
                "sell_zero",
                "sell_dust",
                "inject",
                "refund_cancelled",
                "mint_settled",
            ]
        ),
    )
    def refused(self, data, kind):
        """Bad requests raise PoolError with the right code and change nothing."""
        engine = self.engine
        member = data.draw(st.sampled_from(MEMBERS))
        lots = self.member_lots(member)
        cancelled = sorted(self.lots(LOT_CANCELLED), key=lambda lot: lot.id)
        settled = sorted(
            (
                lot
                for lot in self.lots()
                if lot.state not in (LOT_PENDING, LOT_CANCELLED)
            ),
            key=lambda lot: lot.id,
        )
        if kind == "sell":
            units = self.free_of(member) + data.draw(st.integers(1, 5))
            self.assert_refused("not_enough_points", engine.sell, member, lots, units)
        elif kind == "sell_zero":
            self.assert_refused(
                "non_positive_points",
                engine.sell,
                member,
                lots,
                data.draw(st.integers(-3, 0)),
            )
        elif kind == "inject":
            self.assert_refused(
                "non_positive_amount", engine.inject, data.draw(st.integers(-10, 0))
            )
        elif kind == "refund_cancelled" and cancelled:
            lot = data.draw(st.sampled_from(cancelled))
            self.assert_refused("lot_cancelled", engine.refund, lot, Fraction(1))
        elif kind == "sell_dust" and lots and self.free_of(member):
            # one unit at a low price may pay nothing: refused, never a zero line
            units = 1
            gross = units * self.money_per_unit()
            if floor((1 - self.params.retention) * gross) == 0:
                self.assert_refused("zero_payout", engine.sell, member, lots, units)
        elif kind == "mint_settled" and settled:
            self.assert_refused(
                "lot_not_pending", engine.mint, data.draw(st.sampled_from(settled))
            )

    @precondition(lambda self: any(lot.locked for lot in self.lots(LOT_OPEN)))
    @rule()
    def vesting_cron(self):
        state = self.engine.state
        before = (state.fund, state.supply, state.reserve, self.engine.price())
        for lot in sorted(self.lots(LOT_OPEN), key=lambda lot: lot.id):
            expected = min(lot.locked, ceil(self.params.vesting_rate * lot.minted))
            locked = lot.locked
            event = self.engine.daily_release(lot)
            if expected:
                assert event.detail == [expected] and (event.fund, event.points) == (
                    0,
                    0,
                )
            else:
                assert event is None
            assert lot.locked == locked - expected
        assert (state.fund, state.supply, state.reserve, self.engine.price()) == before

    # ------------------------------------------------------------------
    # invariants (SPEC section 2), after every step
    # ------------------------------------------------------------------
    @invariant()
    def check_after_step(self):
        # exits first: they complete the tally the conservation check uses
        self.check_prices_and_exits()
        self.check_state()
        self.check_conservation()

    def check_state(self):
        state, lots = self.engine.state, self.lots()
        assert (
            state.fund >= 0
            and state.supply >= 0
            and state.reserve >= 0
            and state.pending >= 0
        )
        assert state.pending == sum(
            lot.inflow for lot in lots if lot.state == LOT_PENDING
        )
        assert state.supply == sum(lot.held for lot in lots)
        for lot in lots:
            assert 0 <= lot.locked <= lot.held, lot
            if lot.state == LOT_OPEN:
                assert lot.held > 0, lot
            else:
                assert lot.held == 0, lot
        if state.supply == 0:
            assert state.fund == 0, "dormancy: the reserve takes P when S is 0"

    def check_conservation(self):
        state, events = self.engine.state, self.engine.events
        payouts = self.sell_payouts + self.exit_payouts
        # SPEC 2, as written: P + Z = inflows + injections - payouts - releases
        expected = self.minted_inflow + self.injected - payouts - self.releases
        assert state.fund + state.reserve == expected
        assert sum(e.fund + e.reserve for e in events) == expected
        assert sum(e.fund for e in events) == state.fund
        assert sum(e.reserve for e in events) == state.reserve
        assert sum(e.pending for e in events) == state.pending
        assert sum(e.points for e in events) == state.supply
        assert sum(e.wallet for e in events) == payouts - self.debts
        assert sum(lot.paid for lot in self.lots()) == payouts - self.debts

    def check_prices_and_exits(self):
        engine, params = self.engine, self.params
        price = engine.price()
        assert price >= self.last_price, "price went down"
        events = engine.events
        for index in range(self.checked_events, len(events)):
            event = events[index]
            assert event.price_after >= event.price_before, event
            if index:
                assert event.price_before == events[index - 1].price_after, event
        if events:
            assert events[-1].price_after == price
        # exits of this step: due, lowest trigger first (ties by id), capped payout
        previous = None
        for log in engine.exit_log:
            event = events[log["event"]]
            assert (event.kind, event.lot_id) == ("exit", log["lot"])
            assert log["trigger"] <= log["price"] == event.price_before
            key = (log["trigger"], log["lot"])
            assert previous is None or previous < key, (previous, key)
            previous = key
            payout = floor((1 - params.retention) * max(log["remaining"], 0))
            assert event.wallet == payout, (event.wallet, payout)
            assert event.wallet <= floor(
                (1 - params.retention) * max(log["remaining"], 0)
            )
            self.exit_payouts += payout
        engine.exit_log = []
        # the cascade is complete: no open lot is still due
        for lot in self.lots(LOT_OPEN):
            assert lot.trigger(params) > price, lot
        self.checked_events = len(events)
        self.last_price = price


@tagged("post_install", "-at_install")
class TestPoolProperties(BaseCase):
    def test_random_histories_keep_invariants(self):
        run_state_machine_as_test(PoolMachine, settings=MACHINE_SETTINGS)

    @settings(max_examples=200, deadline=None)
    @given(
        cash=st.integers(1, 10**8),
        price=fractions(Fraction(1, 1000), Fraction(10**4), 10**4),
        retention=fractions(Fraction(0), Fraction(9, 10), 100),
        digits=st.sampled_from([0, 2]),
    )
    def test_units_for_payout_is_the_ceiling(self, cash, price, retention, digits):
        params = PoolParams(retention=retention, digits=digits)
        units = units_for_payout(cash, price, params)

        def net(n):
            return floor((1 - retention) * value_of(n, price, params))

        self.assertGreaterEqual(net(units), cash)
        self.assertLess(net(units - 1), cash)
