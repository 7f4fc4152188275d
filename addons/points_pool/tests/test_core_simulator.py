"""The economics simulator (issue 13) runs the pool engine over scenarios.

Worked numbers reused from ``test_core_pool`` (SPEC section 2): three orders of
1000.00 at 30 % mint at prices 300/210, 600/357, 900/481.95; the first lot
(210 points, cap 3000.00) exits at 3000/210 = 14.2857 and pays 2400.00, which
an injection of 5985.00 after the three orders reaches exactly.
"""

import copy
import heapq
import io
from dataclasses import asdict, replace
from fractions import Fraction
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase, tagged

from ..core import simulator
from ..core.pool import (
    LOT_CLOSED,
    LOT_EXITED,
    LOT_OPEN,
    LOT_PENDING,
    Lot,
    MemoryLotStore,
    PoolParams,
    value_of,
)
from ..core.simulator import (
    PRESETS,
    IndexedLotStore,
    Scenario,
    Snapshot,
    preset,
    simulate,
    steady,
    stop_today,
)

ORDER = 100000  # 1000.00
SEED_PRICES = [Fraction(300, 210), Fraction(600, 357), Fraction(90000, 48195)]
FIRST_TRIGGER = Fraction(3000, 210)


def replay(params, snapshot, ops):
    """The simulator's operations through a plain engine and MemoryLotStore."""
    store = MemoryLotStore(params)
    for lot in snapshot.lots:
        store.add(Lot(**asdict(lot)))
    return simulator.replay(params, ops, store, snapshot.state())


def fractions(low, high, denominator):
    return st.fractions(min_value=low, max_value=high, max_denominator=denominator)


params_strategy = st.builds(
    PoolParams,
    digits=st.sampled_from([0, 2]),
    initial_price=st.sampled_from([Fraction(1), Fraction(1, 2), Fraction(3)]),
    points_ratio=fractions(Fraction(1, 10), Fraction(1), 20),
    retention=fractions(Fraction(0), Fraction(9, 10), 20),
    exit_multiple=fractions(Fraction(1), Fraction(4), 10),
    vesting_rate=st.one_of(
        st.just(Fraction(0)), fractions(Fraction(1, 5), Fraction(1), 10)
    ),
)
scenario_strategy = st.builds(
    Scenario,
    days=st.integers(0, 25),
    orders_per_day=fractions(Fraction(0), Fraction(6), 4),
    growth_pct=st.sampled_from([Fraction(0), Fraction(-20), Fraction(15)]),
    stop_day=st.one_of(st.none(), st.integers(0, 25)),
    order_amount=st.integers(1, 10**6),
    contribution_rate=fractions(Fraction(1, 100), Fraction(1), 100),
    settle_after_days=st.integers(0, 3),
    repeat_share=fractions(Fraction(0), Fraction(1), 4),
    injection_per_day=st.one_of(st.just(0), st.integers(1, 10**6)),
    injection_days=st.one_of(st.none(), st.integers(0, 25)),
    run_after_days=st.one_of(st.none(), st.integers(0, 4)),
    run_share=fractions(Fraction(0), Fraction(1), 4),
    seed=st.integers(0, 1000),
)


def due_ids(store, price, limit):
    return [lot.id for lot in store.due_lots(price, limit)]


@tagged("post_install", "-at_install")
class TestCoreSimulator(BaseCase):
    # ------------------------------------------------------------------
    # the seeds' worked numbers
    # ------------------------------------------------------------------
    def test_steady_reproduces_seed_prices_and_first_exit(self):
        scenario = steady(days=3000, orders_per_day=1, repeat_share=0)
        result = simulate(scenario, PoolParams(), keep_events=True)
        self.assertEqual([row.price for row in result.days[:3]], SEED_PRICES)
        self.assertEqual(
            [result.lots[lot_id].minted for lot_id in (1, 2, 3)],
            [2100000, 1470000, 1249500],
        )
        self.assertEqual(result.days[2].fund, 90000)
        self.assertEqual(result.days[2].supply, 4819500)
        exits = [e for e in result.events if e.kind == "exit"]
        first = exits[0]
        self.assertEqual((first.lot_id, first.wallet, first.gross), (1, 240000, 300000))
        self.assertEqual(first.points, -2100000)
        self.assertGreaterEqual(first.price_before, FIRST_TRIGGER)
        # the mint that lifted the price past 3000/210 started below it
        mint = result.events[result.events.index(first) - 1]
        self.assertEqual(mint.kind, "mint")
        self.assertLess(mint.price_before, FIRST_TRIGGER)
        day = next(row for row in result.days if row.exits)
        self.assertEqual((day.exits, day.exit_paid, day.paid), (1, 240000, 240000))
        self.assertEqual(result.summary.exits, len(exits))

    def test_subsidy_reaches_the_seed_exit_exactly(self):
        scenario = Scenario(
            days=3,
            orders_per_day=3,
            stop_day=1,
            injection_per_day=598500,
            injection_days=1,
        )
        result = simulate(scenario, keep_events=True)
        exits = [e for e in result.events if e.kind == "exit"]
        self.assertEqual(len(exits), 1)
        exit_ = exits[0]
        self.assertEqual((exit_.lot_id, exit_.wallet), (1, 240000))
        self.assertEqual(exit_.price_before, FIRST_TRIGGER)
        self.assertEqual(exit_.price_after, Fraction(448500, 27195))
        self.assertEqual(result.lots[1].state, LOT_EXITED)
        row = result.days[0]
        self.assertEqual(
            (row.orders, row.spent, row.inflow, row.injected),
            (3, 300000, 90000, 598500),
        )
        self.assertEqual((row.fund, row.supply), (688500 - 240000, 4819500 - 2100000))
        summary = result.summary
        self.assertEqual(
            (summary.members, summary.spent, summary.paid), (3, 300000, 240000)
        )
        self.assertEqual(summary.paid_over_spent, Fraction(4, 5))
        self.assertEqual(summary.recovered_members, 1)
        self.assertEqual(summary.recovered_share, Fraction(1, 3))
        self.assertEqual(summary.median_recovery, 0)
        self.assertEqual((summary.top1_members, summary.top1_share), (1, 1))

    # ------------------------------------------------------------------
    # scenarios
    # ------------------------------------------------------------------
    def test_inflow_stops_the_price_stays_flat(self):
        scenario = preset("growth_then_stop", days=80, stop_day=40)
        result = simulate(scenario, record_ops=True)
        rows = result.days
        self.assertTrue(all(row.orders for row in rows[:40]))
        last = rows[39]
        for row in rows[40:]:
            self.assertEqual((row.orders, row.exits, row.sells, row.paid), (0, 0, 0, 0))
            self.assertEqual(
                (row.price, row.fund, row.supply, row.reserve),
                (last.price, last.fund, last.supply, last.reserve),
            )
        # no operation at all after the stop: the same ops as a 40-day run
        short = simulate(replace(scenario, days=40), record_ops=True)
        self.assertEqual(result.ops, short.ops)

    def test_new_orders_stop_today_from_a_snapshot(self):
        before = simulate(steady(days=30), record_ops=True)
        snapshot = Snapshot.of(before.state, before.lots.values())
        result = simulate(stop_today(days=20), snapshot=snapshot, record_ops=True)
        self.assertEqual(result.ops, [])
        price = before.days[-1].price
        self.assertEqual({row.price for row in result.days}, {price})
        self.assertEqual(result.days[-1].cum_spent, before.days[-1].cum_spent)
        self.assertEqual(result.summary.spent, before.summary.spent)
        self.assertEqual(result.summary.members, before.summary.members)
        # the snapshot is copied, never changed
        self.assertEqual(snapshot.lots[0].id, 1)
        self.assertIsNot(result.lots[1], snapshot.lots[0])

    def test_a_run_raises_the_price_and_pays_at_most_the_net_value(self):
        params = PoolParams()
        result = simulate(preset("run", days=90), params, keep_events=True)
        run_days = [row for row in result.days if row.run]
        self.assertTrue(run_days)
        self.assertTrue(any(row.sells for row in run_days))
        previous = {row.day: row for row in result.days}
        for row in run_days:
            self.assertLessEqual(row.sells, row.holders)
            if row.sells:
                self.assertGreater(row.price, previous[row.day - 1].price)
        sells = [e for e in result.events if e.kind == "sell"]
        self.assertEqual(len(sells), result.summary.sells)
        value = 0
        for event in sells:
            gross = value_of(-event.points, event.price_before, params)
            self.assertLessEqual(event.wallet, (1 - params.retention) * gross)
            self.assertGreater(event.price_after, event.price_before)
            value += gross
        paid = sum(row.sell_paid for row in result.days)
        self.assertLessEqual(paid, (1 - params.retention) * value)

    def test_paid_over_spent_within_the_exit_caps(self):
        cases = [
            (PoolParams(), preset("subsidies", days=200, injection_per_day=5 * 10**6)),
            (
                PoolParams(exit_multiple=Fraction(6, 5)),
                preset("run", days=80, injection_per_day=10**6),
            ),
            (PoolParams(retention=Fraction(0)), preset("run", days=80)),
        ]
        for params, scenario in cases:
            with self.subTest(params=params):
                result = simulate(scenario, params)
                bound = (1 - params.retention) * params.exit_multiple
                self.assertGreater(result.summary.paid, 0)
                self.assertLessEqual(result.summary.paid_over_spent, bound)
                for tally in result.members.values():
                    self.assertLessEqual(tally.paid, bound * tally.spent)

    def test_vesting_and_return_window(self):
        params = PoolParams(vesting_rate=Fraction(1, 4))
        scenario = steady(days=10, orders_per_day=2, settle_after_days=7)
        result = simulate(scenario, params, record_ops=True)
        self.assertEqual(result.days[0].pending, 2 * scenario.inflow)
        self.assertEqual(result.days[0].supply, 0)
        self.assertEqual(result.days[7].pending, 7 * 2 * scenario.inflow)
        lots = result.lots
        self.assertEqual(
            [lots[i].state for i in (1, 2, 19, 20)], [LOT_OPEN] * 2 + [LOT_PENDING] * 2
        )
        # minted on day 7, released on days 8 and 9: half of the units are free
        self.assertEqual(lots[1].locked, lots[1].minted // 2)
        self.assertTrue(any(op[0] == "release" for op in result.ops))

    def test_order_counts(self):
        self.assertEqual(
            Scenario(days=4, orders_per_day="2.5").order_counts(), [2, 3, 2, 3]
        )
        self.assertEqual(
            Scenario(days=4, orders_per_day=10, growth_pct=10).order_counts(),
            [10, 11, 12, 13],  # 10, 11, 12.1, 13.31 with 0.1 and 0.41 carried
        )
        self.assertEqual(
            Scenario(days=4, orders_per_day=3, stop_day=2).order_counts(), [3, 3, 0, 0]
        )
        self.assertEqual(Scenario(days=3, stop_day=0).order_counts(), [0, 0, 0])
        with self.assertRaises(ValueError):
            Scenario(days=2000, orders_per_day=20, growth_pct=5).order_counts()

    def test_scenario_refuses_floats_and_bad_values(self):
        with self.assertRaises(TypeError):
            Scenario(contribution_rate=0.3)
        for values in (
            {"days": -1},
            {"repeat_share": 2},
            {"growth_pct": -100},
            {"stop_day": -1},
            {"order_amount": "100"},
        ):
            with self.subTest(values=values), self.assertRaises(ValueError):
                Scenario(**values)
        with self.assertRaises(ValueError):
            preset("nope")
        with self.assertRaises(ValueError):
            simulate(steady(days=1), PoolParams(retention=Fraction(1)))
        snapshot = Snapshot(fund=100, supply=5, lots=())
        with self.assertRaises(ValueError):
            simulate(stop_today(), snapshot=snapshot)

    def test_presets_and_csv(self):
        self.assertEqual(
            sorted(PRESETS),
            ["growth_then_stop", "run", "steady", "stop_today", "subsidies"],
        )
        for name in PRESETS:
            with self.subTest(name=name):
                self.assertIsInstance(preset(name, days=5), Scenario)
        self.assertEqual(preset("stop_today").stop_day, 0)
        self.assertGreater(preset("subsidies").injection_per_day, 0)
        self.assertIsNotNone(preset("run").run_after_days)
        result = simulate(steady(days=3, orders_per_day=1, repeat_share=0))
        rows = result.to_csv_rows()
        self.assertEqual(len(rows), 4)
        header = rows[0]
        first = dict(zip(header, rows[1], strict=True))
        self.assertEqual(first["price"], "1.428571")
        self.assertEqual(first["fund"], "300.00")
        self.assertEqual(first["supply"], "210.0000")
        self.assertEqual(first["cum_spent"], "1000.00")
        self.assertEqual(dict(zip(header, rows[3], strict=True))["price"], "1.867414")
        stream = io.StringIO()
        result.write_csv(stream)
        self.assertEqual(stream.getvalue().splitlines()[0], ",".join(header))
        summary = dict(result.summary_rows())
        self.assertEqual(
            (summary["spent"], summary["paid_over_spent"]), ("3000.00", "0.000000")
        )
        self.assertEqual(len(result.day_dicts()), 3)

    def test_20000_orders_never_scan_the_lots(self):
        """The due-lots lookup reads the exit index, not every open lot: over
        1,000 days x 20 orders, the heap entries it pops stay bounded by the
        entries ever pushed plus the lots it returned (a scan per event would
        read ~10^8 lots).  The time is measured in tests/benchmark.py (f)."""
        pops, returned = [0], [0]
        pop, due = heapq.heappop, IndexedLotStore.due_lots

        def counting_pop(heap):
            pops[0] += 1
            return pop(heap)

        def counting_due(store, price, limit):
            lots = due(store, price, limit)
            returned[0] += len(lots)
            return lots

        with (
            patch.object(heapq, "heappop", counting_pop),
            patch.object(IndexedLotStore, "due_lots", counting_due),
            patch.object(
                MemoryLotStore, "due_lots", side_effect=AssertionError("a scan")
            ),
        ):
            result = simulate(steady(days=1000, orders_per_day=20))
        self.assertEqual(result.summary.orders, 20000)
        self.assertGreater(result.summary.exits, 0)
        self.assertGreater(returned[0], 0)
        # every lot is pushed at most once per change of its trigger
        self.assertLessEqual(pops[0], returned[0] + 3 * 20000)

    # ------------------------------------------------------------------
    # properties
    # ------------------------------------------------------------------
    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        params=params_strategy,
        first=st.one_of(st.none(), scenario_strategy),
        scenario=scenario_strategy,
    )
    def test_simulator_equals_a_plain_replay(self, params, first, scenario):
        snapshot = Snapshot()
        if first is not None:
            before = simulate(first, params)
            snapshot = Snapshot.of(before.state, before.lots.values())
        frozen = copy.deepcopy(snapshot)
        result = simulate(scenario, params, snapshot, keep_events=True, record_ops=True)
        engine = replay(params, snapshot, result.ops)
        self.assertEqual(snapshot, frozen)
        self.assertEqual(engine.state, result.state)
        self.assertEqual(engine.store.lots, result.lots)
        self.assertEqual(engine.events, result.events)
        # the rows are the engine's own numbers
        if result.days:
            last = result.days[-1]
            self.assertEqual(
                (last.price, last.fund, last.supply, last.reserve, last.pending),
                (
                    engine.price(),
                    engine.state.fund,
                    engine.state.supply,
                    engine.state.reserve,
                    engine.state.pending,
                ),
            )
        wallets = sum(e.wallet for e in engine.events)
        self.assertEqual(sum(row.paid for row in result.days), wallets)
        paid = {}
        for event in engine.events:
            if event.kind in ("exit", "sell"):
                paid[event.member_id] = paid.get(event.member_id, 0) + event.wallet
        for member_id, tally in result.members.items():
            history = sum(
                lot.paid for lot in snapshot.lots if lot.member_id == member_id
            )
            self.assertEqual(tally.paid, history + paid.get(member_id, 0))
            bound = (1 - params.retention) * params.exit_multiple
            self.assertLessEqual(tally.paid, bound * tally.spent)

    @settings(max_examples=200, deadline=None)
    @given(
        digits=st.sampled_from([0, 2]),
        steps=st.lists(
            st.tuples(
                st.sampled_from(["add", "change", "query"]),
                st.integers(1, 12),  # lot id
                st.integers(0, 40),  # held
                st.integers(0, 60),  # cap - realized
                st.sampled_from([LOT_OPEN, LOT_OPEN, LOT_CLOSED, LOT_EXITED]),
                fractions(Fraction(0), Fraction(30), 6),  # price
                st.integers(1, 5),  # limit
            ),
            max_size=60,
        ),
    )
    def test_indexed_store_matches_memory_store(self, digits, steps):
        params = PoolParams(digits=digits)
        stores = [MemoryLotStore(params), IndexedLotStore(params)]
        for kind, lot_id, held, room, state, price, limit in steps:
            if held == 0 and state == LOT_OPEN:
                state = LOT_CLOSED  # an open lot holds units (engine invariant)
            if kind == "query":
                self.assertEqual(
                    due_ids(stores[0], price, limit), due_ids(stores[1], price, limit)
                )
                continue
            for store in stores:
                lot = store.lots.get(lot_id)
                if lot is None:
                    lot = Lot(lot_id, lot_id, 0, 0, room + 7, held=held, state=state)
                    lot.realized = 7
                    store.add(lot)
                elif kind == "change":
                    lot.held, lot.realized, lot.state = held, lot.cap - room, state
                    store.save(lot)
        for price in (Fraction(0), Fraction(1), Fraction(10**6)):
            self.assertEqual(
                due_ids(stores[0], price, 100), due_ids(stores[1], price, 100)
            )
