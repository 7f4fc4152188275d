"""Worked examples of the pool core (SPEC section 2), as exact asserts.

Units: money in minor units (cents), points in 1e-4 units (``POINT_SCALE``),
prices as exact ``Fraction`` (major currency per point).  The seeds' numbers:

=========================  =============  ==========  ================
step                       fund P         supply S    price (shown)
=========================  =============  ==========  ================
mint lot 1 (B 1000, I 300)  300.00        210         1.4286 (300/210)
mint lot 2 (B 1000, I 300)  600.00        357         1.6807 (600/357)
mint lot 3 (B 1000, I 300)  900.00        481.95      1.8674 (900/481.95)
=========================  =============  ==========  ================
"""

import copy
from fractions import Fraction

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
)

ORDER = 100000  # 1000.00
INFLOW = 30000  # 300.00


def make_engine(params=None, lots=(), **state):
    """Engine over an in-memory store; ``state`` sets fund/supply/... directly."""
    params = params or PoolParams()
    store = MemoryLotStore(params)
    for lot in lots:
        store.add(lot)
    return PoolEngine(params, PoolState(**state), store)


def open_lot(lot_id, held, cap, member_id=None, inflow=0, basis=0, **values):
    """An already settled, open lot (for state set-ups)."""
    return Lot(
        id=lot_id,
        member_id=member_id if member_id is not None else lot_id,
        basis=basis,
        inflow=inflow,
        cap=cap,
        minted=held,
        held=held,
        state=LOT_OPEN,
        **values,
    )


def pay_and_mint(engine, lot_id, basis=ORDER, inflow=INFLOW, member_id=None):
    lot = engine.store.add(
        Lot(
            lot_id,
            member_id if member_id is not None else lot_id,
            basis,
            inflow,
            engine.params.cap(basis),
        )
    )
    engine.add_pending(lot)
    engine.mint(lot)
    return lot


def snapshot(engine):
    return copy.deepcopy((engine.state, engine.store.lots, engine.events))


def kinds(events):
    return [event.kind for event in events]


@tagged("post_install", "-at_install")
class TestPoolSeeds(BaseCase):
    def test_three_orders_mint_seed_numbers(self):
        engine = make_engine()
        self.assertEqual(engine.price(), 1)
        expected = [
            (2100000, Fraction(300, 210), 1.4286),
            (1470000, Fraction(600, 357), 1.6807),
            (1249500, Fraction(90000, 48195), 1.8674),
        ]
        for lot_id, (units, price, shown) in enumerate(expected, start=1):
            lot = engine.store.add(
                Lot(lot_id, lot_id, ORDER, INFLOW, engine.params.cap(ORDER))
            )
            engine.add_pending(lot)
            self.assertEqual(engine.state.pending, INFLOW)
            self.assertEqual(engine.mint(lot), units)
            self.assertEqual(engine.state.pending, 0)
            self.assertEqual(lot.minted, units)
            self.assertEqual(lot.held, units)
            self.assertEqual(lot.locked, 0)
            self.assertEqual(lot.state, LOT_OPEN)
            self.assertEqual(lot.cap, 300000)
            self.assertEqual(engine.price(), price)
            self.assertEqual(round(float(engine.price()), 4), shown)
        self.assertEqual(
            [lot.held / POINT_SCALE for lot in engine.store.lots.values()],
            [210, 147, 124.95],
        )
        state = engine.state
        self.assertEqual(
            (state.fund, state.supply, state.reserve, state.pending),
            (90000, 4819500, 0, 0),
        )
        self.assertEqual(kinds(engine.events), ["pending", "mint"] * 3)
        mint = engine.events[-1]
        self.assertEqual(
            (mint.points, mint.fund, mint.pending), (1249500, INFLOW, -INFLOW)
        )
        self.assertEqual(mint.price_before, Fraction(600, 357))
        self.assertEqual(mint.price_after, Fraction(90000, 48195))

    def test_first_lot_exits_at_its_trigger(self):
        engine = make_engine()
        lots = [pay_and_mint(engine, lot_id) for lot_id in (1, 2, 3)]
        first = lots[0]
        trigger = first.trigger(engine.params)
        self.assertEqual(trigger, Fraction(3000, 210))
        self.assertEqual(round(float(trigger), 4), 14.2857)
        self.assertEqual(round(float(lots[1].trigger(engine.params)), 4), 20.4082)
        self.assertEqual(round(float(lots[2].trigger(engine.params)), 4), 24.0096)

        # 688500 / 48195 = 3000 / 210 exactly: one cent short, nothing exits
        engine.inject(598499)
        self.assertLess(engine.price(), trigger)
        self.assertEqual(first.state, LOT_OPEN)
        self.assertEqual(kinds(engine.events)[-1], "inject")

        start = len(engine.events)
        engine.inject(1)
        new = engine.events[start:]
        self.assertEqual(kinds(new), ["inject", "exit"])
        inject, exit_ = new
        self.assertEqual(inject.price_after, trigger)
        self.assertEqual(exit_.lot_id, 1)
        self.assertEqual(exit_.wallet, 240000)  # floor(0.8 * 3000.00)
        self.assertEqual(exit_.fund, -240000)
        self.assertEqual(exit_.points, -2100000)  # all 210 points leave the supply
        self.assertEqual(exit_.gross, 300000)
        self.assertEqual(exit_.price_before, trigger)
        self.assertEqual(
            exit_.price_after, Fraction(448500 * POINT_SCALE, 2719500 * 100)
        )
        self.assertGreater(exit_.price_after, exit_.price_before)
        self.assertEqual(first.state, LOT_EXITED)
        self.assertEqual(
            (first.held, first.locked, first.paid, first.realized),
            (0, 0, 240000, 300000),
        )
        self.assertIsNone(first.trigger(engine.params))
        state = engine.state
        self.assertEqual(
            (state.fund, state.supply), (688500 - 240000, 4819500 - 2100000)
        )
        self.assertEqual([lot.state for lot in lots[1:]], [LOT_OPEN, LOT_OPEN])

    def test_big_injection_exits_all_lots_by_trigger_then_dormancy(self):
        engine = make_engine()
        for lot_id in (1, 2, 3):
            pay_and_mint(engine, lot_id)
        start = len(engine.events)
        engine.inject(10**7)
        new = engine.events[start:]
        self.assertEqual(kinds(new), ["inject", "exit", "exit", "exit", "dormancy"])
        self.assertEqual([e.lot_id for e in new[1:4]], [1, 2, 3])
        self.assertEqual([e.wallet for e in new[1:4]], [240000] * 3)
        self.assertEqual([e.points for e in new[1:4]], [-2100000, -1470000, -1249500])
        for before, after in zip(new, new[1:], strict=False):
            self.assertEqual(after.price_before, before.price_after)
            self.assertGreaterEqual(after.price_after, after.price_before)
        last_price = new[3].price_before
        self.assertEqual(new[-1].price_before, last_price)
        self.assertEqual(new[-1].price_after, last_price)
        state = engine.state
        self.assertEqual((state.fund, state.supply), (0, 0))
        self.assertEqual(state.reserve, 90000 + 10**7 - 3 * 240000)
        self.assertEqual(new[-1].reserve, state.reserve)
        self.assertEqual(new[-1].fund, -state.reserve)
        self.assertEqual(engine.price(), last_price)

    def test_cascade_chain_one_exit_triggers_the_next(self):
        # triggers: lot 1 -> 10, lot 2 -> 10.5, lot 3 -> 20 (100 points each)
        engine = make_engine(
            lots=[
                open_lot(1, 1000000, 100000),
                open_lot(2, 1000000, 105000),
                open_lot(3, 1000000, 200000),
            ],
            fund=299000,
            supply=3000000,
        )
        self.assertEqual(engine.store.lots[2].trigger(engine.params), Fraction(21, 2))
        engine.inject(1000)  # price 10: lot 1 exits, which lifts the price to 11 > 10.5
        self.assertEqual(kinds(engine.events), ["inject", "exit", "exit"])
        exit_1, exit_2 = engine.events[1:]
        self.assertEqual(
            (exit_1.lot_id, exit_1.wallet, exit_1.price_before), (1, 80000, 10)
        )
        self.assertEqual(exit_1.price_after, 11)
        self.assertEqual(
            (exit_2.lot_id, exit_2.wallet, exit_2.price_before), (2, 84000, 11)
        )
        self.assertEqual(exit_2.price_after, Fraction(136, 10))
        self.assertEqual((engine.state.fund, engine.state.supply), (136000, 1000000))
        self.assertEqual(engine.store.lots[3].state, LOT_OPEN)

    def test_cascade_lowest_trigger_first(self):
        # lot 1 -> 10.5, lot 2 -> 10: the price jumps to 10.5 at once
        engine = make_engine(
            lots=[
                open_lot(1, 1000000, 105000),
                open_lot(2, 1000000, 100000),
                open_lot(3, 1000000, 200000),
            ],
            fund=299000,
            supply=3000000,
        )
        engine.inject(16000)
        self.assertEqual(kinds(engine.events), ["inject", "exit", "exit"])
        self.assertEqual([e.lot_id for e in engine.events[1:]], [2, 1])
        self.assertEqual([e.wallet for e in engine.events[1:]], [80000, 84000])
        self.assertEqual(engine.events[2].price_before, Fraction(235000, 20000))

    def test_cascade_ties_by_lot_id(self):
        # lots 9 and 4 share the trigger 10; 9 is stored first
        engine = make_engine(
            lots=[
                open_lot(9, 1000000, 100000),
                open_lot(4, 1000000, 100000),
                open_lot(2, 1000000, 300000),
            ],
            fund=299000,
            supply=3000000,
        )
        engine.inject(1000)
        self.assertEqual(kinds(engine.events), ["inject", "exit", "exit"])
        self.assertEqual([e.lot_id for e in engine.events[1:]], [4, 9])

    def test_cascade_beyond_one_batch(self):
        # more due lots than one due_lots() batch: all exit, in (trigger, id) order
        caps = {1: 104000, 2: 101000, 3: 100000, 4: 103000, 5: 100000, 6: 500000}
        engine = make_engine(
            lots=[open_lot(lot_id, 1000000, cap) for lot_id, cap in caps.items()],
            fund=590000,
            supply=6000000,
        )
        engine.BATCH = 2
        engine.inject(40000)  # price 10.5
        self.assertEqual(
            [e.lot_id for e in engine.events if e.kind == "exit"], [3, 5, 2, 4, 1]
        )
        self.assertEqual(engine.store.lots[6].state, LOT_OPEN)

    def test_sell_lifts_the_price_and_exits_another_lot(self):
        # lot 2 (trigger 10.2) is below the price 10 + the seller's retention
        seller = open_lot(1, 1000000, 10**9)
        other = open_lot(2, 1000000, 102000)
        engine = make_engine(lots=[seller, other], fund=200000, supply=2000000)
        engine.sell(1, [seller], 500000)  # pays 400.00, keeps 100.00: price 1600/150
        self.assertEqual(kinds(engine.events), ["sell", "exit"])
        exit_ = engine.events[1]
        self.assertEqual((exit_.lot_id, exit_.price_before), (2, Fraction(1600, 150)))
        self.assertEqual(exit_.wallet, 81600)  # floor(0.8 * 1020.00)


@tagged("post_install", "-at_install")
class TestPoolSell(BaseCase):
    def test_sell_210_points_worth_2000_then_dormancy(self):
        lot = open_lot(1, 2100000, 300000, inflow=INFLOW, basis=ORDER)
        engine = make_engine(lots=[lot], fund=200000, supply=2100000)
        price = Fraction(200, 21)
        self.assertEqual(engine.price(), price)
        event = engine.sell(1, [lot], 2100000)
        self.assertEqual(kinds(engine.events), ["sell", "dormancy"])
        self.assertEqual(event.wallet, 160000)
        self.assertEqual(event.fund, -160000)
        self.assertEqual(event.gross, 200000)
        self.assertEqual(event.points, -2100000)
        self.assertEqual(event.lot_id, 1)
        self.assertEqual((event.price_before, event.price_after), (price, price))
        dormancy = engine.events[1]
        self.assertEqual((dormancy.fund, dormancy.reserve), (-40000, 40000))
        self.assertEqual((dormancy.price_before, dormancy.price_after), (price, price))
        state = engine.state
        self.assertEqual((state.fund, state.supply, state.reserve), (0, 0, 40000))
        self.assertEqual(engine.price(), price)
        self.assertEqual(
            (lot.held, lot.realized, lot.paid, lot.state),
            (0, 200000, 160000, LOT_CLOSED),
        )

    def test_sell_partial_keeps_retention_in_fund(self):
        lot = open_lot(1, 2100000, 300000)
        other = open_lot(2, 2100000, 900000)
        engine = make_engine(lots=[lot, other], fund=400000, supply=4200000)
        event = engine.sell(1, [lot], 1050000)
        self.assertEqual((event.wallet, event.gross), (80000, 100000))
        self.assertEqual((engine.state.fund, engine.state.supply), (320000, 3150000))
        self.assertEqual(kinds(engine.events), ["sell"])
        self.assertGreater(event.price_after, event.price_before)
        self.assertEqual(
            (lot.held, lot.realized, lot.paid, lot.state),
            (1050000, 100000, 80000, LOT_OPEN),
        )
        # R went up: the trigger is (3000 - 1000) / 105 points
        self.assertEqual(lot.trigger(engine.params), Fraction(2000, 105))

    def test_one_request_over_two_lots_is_one_event(self):
        # price 10/7: 150 units are worth 2.142857 cents, 300 units 4.285714 cents
        lot_a = open_lot(1, 150, 10**9, member_id=7)
        lot_b = open_lot(2, 2099850, 10**9, member_id=7)
        engine = make_engine(lots=[lot_a, lot_b], fund=30000, supply=2100000)
        event = engine.sell(7, [lot_a, lot_b], 300)
        self.assertEqual(kinds(engine.events), ["sell"])
        self.assertEqual(event.wallet, 3)  # floor(0.8 * 4.2857), not 1 + 1 per lot
        self.assertIsNone(event.lot_id)
        self.assertEqual([d["units"] for d in event.detail], [150, 150])
        self.assertEqual([d["paid"] for d in event.detail], [1, 2])
        self.assertEqual(sum(d["paid"] for d in event.detail), event.wallet)
        self.assertEqual(lot_a.paid + lot_b.paid, 3)
        self.assertEqual(lot_a.state, LOT_CLOSED)
        self.assertEqual(lot_b.held, 2099700)

    def test_sell_takes_oldest_lots_first_and_skips_locked(self):
        lot_a = open_lot(1, 1000000, 10**9, member_id=7, locked=400000)
        lot_b = open_lot(2, 1000000, 10**9, member_id=7)
        engine = make_engine(lots=[lot_a, lot_b], fund=20000, supply=2000000)
        event = engine.sell(7, [lot_a, lot_b], 700000)
        self.assertEqual(
            [(d["lot"], d["units"]) for d in event.detail], [(1, 600000), (2, 100000)]
        )
        self.assertEqual((lot_a.held, lot_a.locked, lot_a.free), (400000, 400000, 0))
        self.assertEqual(lot_b.held, 900000)

    def test_units_for_payout_is_the_ceiling(self):
        engine = make_engine()
        for lot_id in (1, 2, 3):
            pay_and_mint(engine, lot_id)
        price = engine.price()
        for cash in (1, 99, 12345, 31000):  # 210 points pay at most 313.74
            units = units_for_payout(cash, price, engine.params)
            probe = copy.deepcopy(engine)
            paid = probe.sell(1, [probe.store.lots[1]], units).wallet
            self.assertGreaterEqual(paid, cash)
            probe = copy.deepcopy(engine)
            if cash == 1:  # one unit less pays nothing at all: refused
                with self.assertRaises(PoolError) as caught:
                    probe.sell(1, [probe.store.lots[1]], units - 1)
                self.assertEqual(caught.exception.code, "zero_payout")
                continue
            paid = probe.sell(1, [probe.store.lots[1]], units - 1).wallet
            self.assertLess(paid, cash)


@tagged("post_install", "-at_install")
class TestPoolLocalLife(BaseCase):
    def test_local_life_lot_at_1_2x(self):
        params = PoolParams(exit_multiple=Fraction(6, 5))
        engine = make_engine(params)
        lot = pay_and_mint(engine, 1, basis=100000, inflow=16000)
        self.assertEqual(lot.minted, 1120000)  # 112 points
        self.assertEqual(lot.cap, 120000)
        trigger = lot.trigger(params)
        self.assertEqual(trigger, Fraction(1200, 112))
        self.assertEqual(round(float(trigger), 4), 10.7143)
        self.assertEqual((engine.state.fund, engine.state.supply), (16000, 1120000))
        # fund needed: 1200/112 * 112 points = 1200.00
        engine.inject(104000 - 1)
        self.assertEqual(lot.state, LOT_OPEN)
        engine.inject(1)
        self.assertEqual(kinds(engine.events)[-3:], ["inject", "exit", "dormancy"])
        exit_ = engine.events[-2]
        self.assertEqual(
            (exit_.wallet, exit_.gross, exit_.price_before), (96000, 120000, trigger)
        )
        self.assertEqual(lot.state, LOT_EXITED)
        self.assertEqual(engine.state.reserve, 24000)
        self.assertEqual(engine.price(), trigger)


@tagged("post_install", "-at_install")
class TestPoolRefund(BaseCase):
    def _pending(self, engine, lot_id=1):
        lot = engine.store.add(
            Lot(lot_id, lot_id, ORDER, INFLOW, engine.params.cap(ORDER))
        )
        engine.add_pending(lot)
        return lot

    def test_refund_before_settlement_full(self):
        engine = make_engine()
        pay_and_mint(engine, 1)
        lot = self._pending(engine, 2)
        self.assertEqual(engine.state.pending, INFLOW)
        before = copy.deepcopy(engine.state)
        event = engine.refund(lot, 1)
        self.assertEqual(event.kind, "pending_cancel")
        self.assertEqual(
            (event.pending, event.fund, event.points, event.wallet), (-INFLOW, 0, 0, 0)
        )
        self.assertEqual(engine.state.pending, 0)
        self.assertEqual(
            (engine.state.fund, engine.state.supply, engine.state.reserve),
            (before.fund, before.supply, before.reserve),
        )
        self.assertEqual(
            (lot.state, lot.inflow, lot.basis, lot.cap), (LOT_CANCELLED, 0, 0, 0)
        )
        with self.assertRaises(PoolError) as caught:
            engine.refund(lot, Fraction(1, 2))
        self.assertEqual(caught.exception.code, "lot_cancelled")
        with self.assertRaises(PoolError) as caught:
            engine.mint(lot)
        self.assertEqual(caught.exception.code, "lot_not_pending")

    def test_refund_before_settlement_half(self):
        engine = make_engine()
        lot = self._pending(engine)
        event = engine.refund(lot, Fraction(1, 2))
        self.assertEqual(event.pending, -15000)
        self.assertEqual(engine.state.pending, 15000)
        self.assertEqual(
            (lot.state, lot.inflow, lot.basis, lot.cap),
            (LOT_PENDING, 15000, 50000, 150000),
        )
        self.assertEqual(engine.mint(lot), 1050000)
        self.assertEqual((engine.state.fund, engine.state.pending), (15000, 0))

    def test_refund_after_settlement_half_released_at_inflow(self):
        engine = make_engine()
        lots = [pay_and_mint(engine, lot_id) for lot_id in (1, 2, 3)]
        price = engine.price()
        event = engine.refund(lots[0], "0.5")
        # burned 105 points worth floor(196.0784...) = 196.07 > f*I = 150.00
        self.assertEqual(event.kind, "refund")
        self.assertEqual(
            event.detail, [{"burned": 1050000, "release": 15000, "debt": 0}]
        )
        self.assertEqual(
            (event.points, event.fund, event.wallet, event.gross),
            (-1050000, -15000, 0, 15000),
        )
        self.assertEqual((engine.state.fund, engine.state.supply), (75000, 3769500))
        self.assertEqual(event.price_before, price)
        self.assertGreaterEqual(engine.price(), price)
        lot = lots[0]
        self.assertEqual(
            (lot.held, lot.inflow, lot.basis, lot.cap, lot.state),
            (1050000, 15000, 50000, 150000, LOT_OPEN),
        )

    def test_refund_after_settlement_full_released_at_value(self):
        engine = make_engine()
        lots = [pay_and_mint(engine, lot_id) for lot_id in (1, 2, 3)]
        price = engine.price()
        event = engine.refund(lots[2], 1)
        # 124.95 points at 1.8674 are worth 233.33 < 300.00: release the value
        self.assertEqual(
            event.detail, [{"burned": 1249500, "release": 23333, "debt": 0}]
        )
        self.assertEqual(
            (engine.state.fund, engine.state.supply), (90000 - 23333, 3570000)
        )
        self.assertGreaterEqual(engine.price(), price)
        self.assertEqual(event.price_after, engine.price())
        self.assertEqual(
            (lots[2].held, lots[2].state, lots[2].inflow), (0, LOT_CLOSED, 0)
        )

    def test_refund_after_sell_makes_a_wallet_debt(self):
        lot = open_lot(1, 2100000, 300000, inflow=INFLOW, basis=ORDER)
        other = open_lot(2, 2100000, 900000, member_id=2)
        engine = make_engine(lots=[lot, other], fund=400000, supply=4200000)
        self.assertEqual(engine.sell(1, [lot], 1050000).wallet, 80000)
        price = engine.price()
        event = engine.refund(lot, 1)
        self.assertEqual(
            event.detail, [{"burned": 1050000, "release": 30000, "debt": 80000}]
        )
        self.assertEqual(
            event.wallet, -80000
        )  # deducted from the wallet, may go negative
        # the 800.00 debt is the company's (revenue contra), not the pool's:
        # only the 300.00 release leaves the fund (issue 9, finding 2)
        self.assertEqual(event.fund, -30000)
        self.assertEqual((engine.state.fund, engine.state.supply), (290000, 2100000))
        self.assertGreaterEqual(engine.price(), price)
        self.assertEqual(
            (lot.held, lot.paid, lot.realized, lot.inflow, lot.cap, lot.state),
            (0, 0, 0, 0, 0, LOT_CLOSED),
        )
        self.assertEqual(other.state, LOT_OPEN)
        self.assertEqual(sum(e.wallet for e in engine.events), 0)

    def test_two_half_credit_notes_leave_nothing(self):
        """Issue 9, finding 1: 1000 refunded by two credit notes of 500 kept 25%
        of its lot (3.43 points, inflow 75, basis 250, cap 750)."""
        engine = make_engine()
        lots = [pay_and_mint(engine, lot_id) for lot_id in (1, 2, 3)]
        lot = lots[1]
        engine.refund(lot, Fraction(1, 2))
        self.assertEqual(lot.refunded, Fraction(1, 2))
        engine.refund(lot, Fraction(1, 2))
        self.assertEqual(
            (lot.held, lot.inflow, lot.basis, lot.cap, lot.state),
            (0, 0, 0, 0, LOT_CLOSED),
        )
        self.assertEqual(lot.refunded, 1)
        with self.assertRaises(PoolError) as caught:
            engine.refund(lot, Fraction(1, 10))
        self.assertEqual(caught.exception.code, "lot_refunded")

    def test_refunds_never_exceed_the_order(self):
        engine = make_engine()
        lot = self._pending(engine)
        engine.refund(lot, Fraction(3, 4))
        event = engine.refund(lot, Fraction(1, 2))  # only 1/4 is left
        self.assertEqual(event.pending, -7500)
        self.assertEqual((lot.state, lot.inflow, lot.refunded), (LOT_CANCELLED, 0, 1))
        self.assertEqual(engine.state.pending, 0)

    def test_refund_after_exit_is_all_debt(self):
        params = PoolParams(exit_multiple=Fraction(6, 5))
        engine = make_engine(params)
        lot = pay_and_mint(engine, 1, basis=100000, inflow=16000)
        pay_and_mint(engine, 2, basis=100000, inflow=16000)
        engine.inject(10**6)
        self.assertEqual(lot.state, LOT_EXITED)
        self.assertEqual(lot.paid, 96000)
        self.assertEqual(engine.state.supply, 0)  # both lots exited
        reserve = engine.state.reserve
        start = len(engine.events)
        event = engine.refund(lot, Fraction(1, 4))
        # nothing left to burn; the member owes a quarter of the net payout
        self.assertEqual(event.detail, [{"burned": 0, "release": 0, "debt": 24000}])
        # the debt does not flow into the pool (issue 9, finding 2)
        self.assertEqual((event.wallet, event.fund, event.points), (-24000, 0, 0))
        self.assertEqual(lot.paid, 72000)
        self.assertEqual(kinds(engine.events[start:]), ["refund"])
        self.assertEqual(engine.state.reserve, reserve)
        self.assertEqual(engine.state.fund, 0)


@tagged("post_install", "-at_install")
class TestPoolErrors(BaseCase):
    def _seeded(self, params=None):
        engine = make_engine(params)
        for lot_id in (1, 2):
            pay_and_mint(engine, lot_id)
        return engine

    def assertPoolError(self, engine, code, call, *args):
        before = snapshot(engine)
        with self.assertRaises(PoolError) as caught:
            call(*args)
        self.assertEqual(caught.exception.code, code)
        self.assertEqual(
            snapshot(engine), before, "state changed by a refused operation"
        )
        return caught.exception

    def test_sell_more_than_free(self):
        engine = self._seeded()
        lot = engine.store.lots[1]
        error = self.assertPoolError(
            engine, "not_enough_points", engine.sell, 1, [lot], lot.held + 1
        )
        self.assertEqual(error.values["free"], lot.held)

    def test_sell_locked_units(self):
        engine = self._seeded(PoolParams(vesting_rate=Fraction(1, 10)))
        lot = engine.store.lots[1]
        self.assertEqual(lot.locked, lot.minted)
        error = self.assertPoolError(
            engine, "not_enough_points", engine.sell, 1, [lot], 1
        )
        self.assertEqual(
            (error.values["free"], error.values["locked"]), (0, lot.minted)
        )

    def test_sell_zero_or_negative(self):
        engine = self._seeded()
        lot = engine.store.lots[1]
        self.assertPoolError(engine, "non_positive_points", engine.sell, 1, [lot], 0)
        self.assertPoolError(engine, "non_positive_points", engine.sell, 1, [lot], -5)

    def test_inject_zero_or_negative(self):
        engine = self._seeded()
        self.assertPoolError(engine, "non_positive_amount", engine.inject, 0)
        self.assertPoolError(engine, "non_positive_amount", engine.inject, -100)

    def test_refund_bad_fraction_and_cancelled(self):
        engine = self._seeded()
        lot = engine.store.lots[1]
        self.assertPoolError(engine, "bad_fraction", engine.refund, lot, 0)
        self.assertPoolError(engine, "bad_fraction", engine.refund, lot, Fraction(3, 2))
        with self.assertRaises(TypeError):
            engine.refund(lot, 0.5)
        pending = engine.store.add(Lot(3, 3, ORDER, INFLOW, engine.params.cap(ORDER)))
        engine.add_pending(pending)
        engine.refund(pending, 1)
        self.assertPoolError(engine, "lot_cancelled", engine.refund, pending, 1)

    def test_mint_twice_and_negative_pending(self):
        engine = self._seeded()
        self.assertPoolError(
            engine, "lot_not_pending", engine.mint, engine.store.lots[1]
        )
        bad = Lot(9, 9, ORDER, -1, 0)
        self.assertPoolError(engine, "negative_amount", engine.add_pending, bad)


@tagged("post_install", "-at_install")
class TestPoolDormancy(BaseCase):
    def test_reserve_goes_back_with_later_mints(self):
        lot = open_lot(1, 2100000, 300000)
        engine = make_engine(lots=[lot], fund=200000, supply=2100000)
        engine.sell(1, [lot], 2100000)
        last_price = Fraction(200, 21)
        self.assertEqual((engine.state.reserve, engine.price()), (40000, last_price))

        # S = 0: an injection waits in the reserve too
        engine.inject(500)
        self.assertEqual((engine.state.fund, engine.state.reserve), (0, 40500))
        self.assertEqual(engine.events[-1].reserve, 500)

        new = pay_and_mint(engine, 2)
        mint = engine.events[-1]
        # priced at the last price, 10% of I = 30.00 comes back from the reserve
        self.assertEqual(new.minted, 220500)  # floor(210.00 / (200/21)) = 22.05 points
        self.assertEqual(mint.price_before, last_price)
        self.assertEqual(
            (mint.fund, mint.reserve, mint.pending), (33000, -3000, -INFLOW)
        )
        self.assertEqual(
            (engine.state.fund, engine.state.reserve, engine.state.supply),
            (33000, 37500, 220500),
        )
        self.assertGreaterEqual(engine.price(), last_price)

        # a big order takes at most what is left
        pay_and_mint(engine, 3, basis=10**7, inflow=3 * 10**6)
        self.assertEqual(engine.events[-1].reserve, -37500)
        self.assertEqual(engine.state.reserve, 0)
        self.assertEqual(engine.state.fund, 33000 + 3 * 10**6 + 37500)

    def test_first_mint_uses_initial_price(self):
        engine = make_engine(PoolParams(initial_price=Fraction(2), digits=0))
        lot = pay_and_mint(engine, 1, basis=1000, inflow=300)
        # 210 yen at 2 yen per point: 105 points
        self.assertEqual(lot.minted, 1050000)
        self.assertEqual(engine.price(), Fraction(300, 105))

    def test_emptying_the_pool_without_stored_last_price(self):
        # CORE BUG (reported to the lead, core/pool.py PoolEngine._record): when
        # S reaches 0 with P exactly 0 (retention 0 and a full sell here) and the
        # state has no last_price yet (a state loaded with S > 0 but last_price
        # None), the event's price_after is computed before last_price is set, so
        # it reads p0 (1) instead of the price before (5); state.price() is 5.
        lot = open_lot(1, 10000, 10**9)
        engine = make_engine(
            PoolParams(retention=Fraction(0)), lots=[lot], fund=500, supply=10000
        )
        event = engine.sell(1, [lot], 10000)
        self.assertEqual(engine.price(), 5)
        self.assertEqual(event.price_after, event.price_before)


@tagged("post_install", "-at_install")
class TestPoolVesting(BaseCase):
    def test_daily_release_ceil_until_free(self):
        params = PoolParams(vesting_rate=Fraction(1, 3))
        engine = make_engine(params)
        lot = pay_and_mint(engine, 1, basis=ORDER, inflow=10001)
        self.assertEqual(lot.minted, 700070)
        self.assertEqual((lot.locked, lot.free), (700070, 0))
        fund, supply, price = engine.state.fund, engine.state.supply, engine.price()
        released = []
        while True:
            event = engine.daily_release(lot)
            if event is None:
                break
            self.assertEqual(event.kind, "release")
            self.assertEqual((event.points, event.fund, event.wallet), (0, 0, 0))
            released.append(event.detail[0])
        self.assertEqual(released, [233357, 233357, 233356])
        self.assertEqual((lot.locked, lot.free, lot.held), (0, 700070, 700070))
        self.assertEqual(
            (engine.state.fund, engine.state.supply, engine.price()),
            (fund, supply, price),
        )
        self.assertEqual(
            engine.sell(1, [lot], 700070).wallet, 8000
        )  # floor(0.8 * 100.01)


@tagged("post_install", "-at_install")
class TestPoolParams(BaseCase):
    def test_defaults_valid_and_warn(self):
        params = PoolParams()
        self.assertEqual(params.errors(), [])
        self.assertEqual(
            params.warnings(), [("static_return", {"value": Fraction(12, 5)})]
        )
        self.assertEqual(params.cap(ORDER), 300000)

    def test_local_life_does_not_warn(self):
        self.assertEqual(PoolParams(exit_multiple=Fraction(6, 5)).warnings(), [])
        self.assertEqual(
            PoolParams(retention=Fraction(0), exit_multiple=Fraction(1)).warnings(), []
        )
        self.assertEqual(
            len(
                PoolParams(
                    retention=Fraction(0), exit_multiple=Fraction(101, 100)
                ).warnings()
            ),
            1,
        )

    def test_errors(self):
        cases = {
            "initial_price": {"initial_price": Fraction(0)},
            "points_ratio": {"points_ratio": Fraction(11, 10)},
            "retention": {"retention": Fraction(1)},
            "exit_multiple": {"exit_multiple": Fraction(99, 100)},
            "reserve_release": {"reserve_release": Fraction(-1, 10)},
            "vesting_rate": {"vesting_rate": Fraction(2)},
        }
        for code, values in cases.items():
            with self.subTest(code=code):
                self.assertEqual([c for c, _v in PoolParams(**values).errors()], [code])
        self.assertEqual(
            [c for c, _v in PoolParams(points_ratio=Fraction(0)).errors()],
            ["points_ratio"],
        )
        self.assertEqual(
            PoolParams(points_ratio=Fraction(1), retention=Fraction(0)).errors(), []
        )
