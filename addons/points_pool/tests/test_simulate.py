"""The "Simulate" wizard of the pool form (issue 13): presets, a run through
the core simulator, a snapshot of the pool, refused inputs, the CSV route and
the chart widget (tour).

Numbers: the seeds' pool (30 % contribution, 70 % points ratio, 20 %
retention, 3x exit) with the "steady" preset (20 orders of 1000.00 a day, half
by returning members, seed 0) reaches 3.205345 after day 0, 3.935952 after
day 1 and 4.441179 after day 2; its first forced exit is on day 148 and pays
2400.00 (the 3x cap of 3000.00 less the 20 % retention).
"""

import csv
import io

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from ..core import money, simulator
from ..core.pool import POINT_DIGITS
from .common import PointsPoolCommon

MANAGER = "points_pool.points_pool_group_manager"
#: the fields of a result line (points.pool.simulation.day)
LINE_FIELDS = (
    "day",
    "orders",
    "run",
    "spent",
    "price",
    "fund",
    "supply",
    "reserve",
    "exits",
    "sells",
    "paid",
    "cum_spent",
    "cum_paid",
)


@tagged("post_install", "-at_install")
class TestSimulate(PointsPoolCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager, cls.other_manager = (
            cls._new_user(login, f"base.group_user,{MANAGER}")
            for login in ("sim_manager", "sim_manager2")
        )
        cls.clerk = cls._new_user(
            "sim_clerk", "base.group_user,points_pool.points_pool_group_accountant"
        )
        cls.Simulation = cls.env["points.pool.simulation"]

    def _wizard(self, user=None, **values):
        Simulation = self.Simulation.with_user(user) if user else self.Simulation
        return Simulation.create({"pool_id": self.pool.id, **values})

    def _core_rows(self, result):
        """The wizard line values a core result's days should give."""
        digits = self.pool.currency_id.decimal_places
        return [
            {
                "day": row.day,
                "orders": row.orders,
                "run": row.run,
                "spent": money.to_float(row.spent, digits),
                "price": float(simulator.format_price(row.price)),
                "fund": money.to_float(row.fund, digits),
                "supply": money.to_float(row.supply, POINT_DIGITS),
                "reserve": money.to_float(row.reserve, digits),
                "exits": row.exits,
                "sells": row.sells,
                "paid": money.to_float(row.paid, digits),
                "cum_spent": money.to_float(row.cum_spent, digits),
                "cum_paid": money.to_float(row.cum_paid, digits),
            }
            for row in result.days
        ]

    def _lines(self, wizard):
        return [{name: line[name] for name in LINE_FIELDS} for line in wizard.day_ids]

    # ------------------------------------------------------------------
    # presets
    # ------------------------------------------------------------------
    def test_presets_fill_the_fields(self):
        form = Form(self.Simulation.with_context(default_pool_id=self.pool.id))
        self.assertEqual(form.preset, "steady")
        self.assertEqual(form.start, "empty")
        self.assertEqual(form.days, 365)
        self.assertEqual(form.orders_per_day, 20)
        self.assertEqual(form.growth_pct, 0)
        self.assertFalse(form.stop_orders)
        self.assertEqual(form.order_amount, 1000.0)
        self.assertEqual(form.repeat_share, 50.0)
        self.assertEqual(form.run_share, 0)
        self.assertEqual(form.injection_per_day, 0)
        # the pool's own terms, not the preset's
        self.assertEqual(form.contribution_share, 30.0)
        self.assertEqual(form.settle_after_days, 0)

        form.preset = "growth_then_stop"
        self.assertEqual(
            (form.days, form.orders_per_day, form.growth_pct, form.stop_orders),
            (365, 5, 2, True),
        )
        self.assertEqual(form.stop_day, 180)

        form.preset = "stop_today"
        self.assertEqual(form.start, "snapshot")
        self.assertEqual((form.days, form.stop_orders, form.stop_day), (90, True, 0))

        form.preset = "run"
        self.assertEqual(form.start, "empty")
        self.assertEqual((form.days, form.stop_day), (120, 60))
        self.assertEqual((form.run_share, form.run_after_days), (25.0, 3))

        form.preset = "subsidies"
        self.assertEqual((form.days, form.orders_per_day), (365, 20))
        self.assertEqual(form.injection_per_day, 1000.0)
        self.assertEqual(form.run_share, 0)
        self.assertFalse(form.stop_orders)

        # edits are kept when saving
        form.days = 10
        form.seed = 7
        wizard = form.save()
        self.assertEqual(
            (wizard.preset, wizard.days, wizard.seed), ("subsidies", 10, 7)
        )

        # the pool's return window becomes the settlement delay
        self.pool.return_window_days = 7
        self.assertEqual(self._wizard(preset="steady").settle_after_days, 7)
        self.pool.return_window_days = 0

    # ------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------
    def test_run_steady_matches_core(self):
        wizard = self._wizard(preset="steady")
        self.assertFalse(wizard.has_result)
        action = wizard.action_run()
        self.assertEqual(
            (action["res_model"], action["res_id"], action["target"]),
            ("points.pool.simulation", wizard.id, "new"),
        )
        expected = simulator.simulate(simulator.steady(), self.pool._get_params())
        self.assertEqual(len(wizard.day_ids), 365)
        self.assertEqual(self._lines(wizard), self._core_rows(expected))

        first = wizard.day_ids[:3]
        self.assertEqual(first.mapped("price"), [3.205345, 3.935952, 4.441179])
        self.assertEqual(first.mapped("orders"), [20, 20, 20])
        self.assertEqual(first.mapped("fund"), [6000.0, 12000.0, 18000.0])
        self.assertEqual(first.mapped("supply"), [1871.8735, 3048.818, 4052.9777])
        self.assertEqual(first.mapped("cum_spent"), [20000.0, 40000.0, 60000.0])
        self.assertEqual(first.mapped("paid"), [0.0, 0.0, 0.0])
        exit_day = wizard.day_ids.filtered("exits")
        self.assertEqual(exit_day.mapped("day"), [148])
        self.assertEqual((exit_day.exits, exit_day.paid), (1, 2400.0))

        # summary
        self.assertEqual(wizard.result_orders, 7300)
        self.assertEqual(wizard.result_members, 3668)
        self.assertEqual(wizard.total_spent, 7300000.0)
        self.assertEqual(wizard.total_paid, 2400.0)
        self.assertEqual(wizard.paid_over_spent, 0.000329)  # 2400 / 7300000
        self.assertEqual(wizard.recovered_share, 0.0)
        self.assertEqual(wizard.median_recovery, 0.0)
        self.assertEqual(wizard.top1_share, 100.0)
        self.assertEqual(wizard.final_price, 18.741458)

        # the series of the charts widget
        result = wizard.result
        series = result["series"]
        self.assertEqual(series["day"][:3], [0, 1, 2])
        self.assertEqual(series["price"][:3], [3.205345, 3.935952, 4.441179])
        self.assertEqual(series["cum_spent"][-1], 7300000.0)
        self.assertEqual(series["cum_paid"][-1], 2400.0)
        self.assertEqual(sum(series["exits"]), 1)
        self.assertEqual(sum(series["sells"]), 0)
        self.assertEqual(series["fund"][-1], 2187600.0)
        self.assertEqual(series["supply"][-1], 116725.1782)
        self.assertEqual(series["reserve"][-1], 0.0)
        self.assertEqual(result["summary"]["members"], 3668)
        self.assertEqual(result["summary"]["top1_share"], 100.0)
        self.assertEqual(result["labels"]["price_title"], "Price over days")

        # running again replaces the lines
        wizard.days = 5
        wizard.action_run()
        self.assertEqual(wizard.day_ids.mapped("day"), [0, 1, 2, 3, 4])
        self.assertEqual(len(wizard.result["series"]["price"]), 5)

    def test_run_on_the_pool_sells(self):
        wizard = self._wizard(preset="run")
        wizard.action_run()
        expected = simulator.simulate(simulator.run_on_pool(), self.pool._get_params())
        self.assertEqual(self._lines(wizard), self._core_rows(expected))
        runs = wizard.day_ids.filtered("run")
        self.assertEqual(runs[:2].mapped("day"), [62, 65])
        self.assertEqual(runs[:2].mapped("sells"), [154, 115])
        self.assertEqual(runs[0].price, 11.568387)
        self.assertEqual(wizard.total_paid, 359709.91)
        self.assertEqual(wizard.paid_over_spent, 0.299758)
        self.assertEqual(
            wizard.paid_over_spent, round(float(expected.summary.paid_over_spent), 6)
        )
        self.assertEqual(wizard.median_recovery, 0.24499)
        self.assertEqual(wizard.recovered_share, 0.1631)  # 1 member of 613
        self.assertEqual(wizard.top1_share, 8.12)
        self.assertEqual(sum(wizard.result["series"]["sells"]), 613)

    def test_snapshot_starts_from_the_pool(self):
        self._buy(self.alice)
        self._buy(self.bob)
        self._buy(self.carol)
        pool = self.pool
        fund, supply, reserve, price = pool.fund, pool.supply, pool.reserve, pool.price
        self.assertEqual(fund, 900.0)  # 3 x 30 % of 1000.00
        self.assertGreater(supply, 0)
        moves = self.env["points.pool.move"].search_count([("pool_id", "=", pool.id)])

        wizard = self._wizard(preset="stop_today", days=3)
        self.assertEqual(wizard.start, "snapshot")
        wizard.action_run()
        day0 = wizard.day_ids[0]
        self.assertEqual(day0.orders, 0)
        self.assertEqual(
            (day0.fund, day0.supply, day0.reserve), (fund, supply, reserve)
        )
        self.assertEqual(round(day0.price, 4), price)
        self.assertEqual(day0.price, 1.867414)  # 900.00 / 481.95 points
        # the snapshot's three members and their spend
        self.assertEqual(wizard.result_members, 3)
        self.assertEqual(wizard.total_spent, 3000.0)
        self.assertEqual(day0.cum_spent, 3000.0)
        expected = simulator.simulate(
            simulator.stop_today(days=3),
            pool._get_params(),
            pool._simulation_snapshot(),
        )
        self.assertEqual(self._lines(wizard), self._core_rows(expected))

        # from an empty pool the same scenario has nothing
        empty = self._wizard(preset="stop_today", days=3, start="empty")
        empty.action_run()
        self.assertEqual(empty.day_ids[0].fund, 0.0)
        self.assertEqual(empty.result_members, 0)

        # a simulation books nothing
        self.assertEqual((pool.fund, pool.supply), (fund, supply))
        self.assertEqual(
            self.env["points.pool.move"].search_count([("pool_id", "=", pool.id)]),
            moves,
        )

    def test_bad_input_refused(self):
        wizard = self._wizard(days=10)
        for values, message in (
            ({"days": 0}, "between 1 and 3650"),
            ({"days": 3651}, "between 1 and 3650"),
            ({"order_amount": -5.0}, "order amount must be positive"),
            ({"order_amount": 0.0}, "order amount must be positive"),
            ({"injection_per_day": -1.0}, "injection per day cannot be negative"),
            ({"orders_per_day": -1.0}, "orders per day cannot be negative"),
            ({"contribution_share": 120.0}, "contribution share"),
            ({"repeat_share": -1.0}, "repeat buyers share"),
            ({"run_share": 101.0}, "run share"),
            ({"run_after_days": -1}, "days before a run"),
            ({"growth_pct": -100.0}, "growth per day"),
            ({"stop_orders": True, "stop_day": -2}, "stop day cannot be negative"),
            ({"seed": -1}, "seed cannot be negative"),
        ):
            with self.subTest(values=values):
                with self.assertRaisesRegex(ValidationError, message):
                    self._wizard(**values)
                with self.assertRaisesRegex(ValidationError, message):
                    self._wizard(days=10).write(values)
        # too many orders: refused before running
        wizard.write({"days": 3650, "orders_per_day": 60.0})  # 219,000 orders
        with self.assertRaisesRegex(ValidationError, "books 219000 orders"):
            wizard.action_run()
        wizard.write({"days": 3650, "orders_per_day": 20.0, "growth_pct": 5.0})
        with self.assertRaisesRegex(ValidationError, "more than 2000000 orders"):
            wizard.action_run()
        self.assertFalse(wizard.day_ids)
        # no CSV before a run
        with self.assertRaisesRegex(ValidationError, "Run the simulation first"):
            wizard.action_export_csv()

    # ------------------------------------------------------------------
    # CSV
    # ------------------------------------------------------------------
    def test_csv_route(self):
        wizard = self._wizard(user=self.manager, preset="run", days=70)
        wizard.action_run()
        action = wizard.action_export_csv()
        url = f"/points_pool/simulation/{wizard.id}/csv"
        self.assertEqual((action["type"], action["url"]), ("ir.actions.act_url", url))
        expected = simulator.simulate(
            simulator.run_on_pool(days=70), self.pool._get_params()
        ).to_csv_rows()

        self.authenticate("sim_manager", "sim_manager")
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/csv"))
        self.assertIn(".csv", response.headers["Content-Disposition"])
        rows = list(csv.reader(io.StringIO(response.text)))
        self.assertEqual(rows, expected)
        self.assertEqual(rows[0][:3], ["day", "orders", "new_members"])
        self.assertEqual(len(rows), 71)
        self.assertEqual(rows[1][0], "0")
        self.assertEqual(rows[1][14], "3.205345")  # price
        self.assertEqual(rows[1][15], "6000.00")  # fund
        run_day = rows[63]
        self.assertEqual((run_day[0], run_day[6], run_day[9]), ("62", "1", "154"))

        # not a manager, another manager, no such wizard: 404
        for login in ("sim_clerk", "sim_manager2"):
            with self.subTest(login=login):
                self.authenticate(login, login)
                response = self.url_open(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("3.205345", response.text)
        self.authenticate("sim_manager", "sim_manager")
        self.assertEqual(
            self.url_open(
                f"/points_pool/simulation/{wizard.id + 1000}/csv"
            ).status_code,
            404,
        )
        # a wizard not run yet
        fresh = self._wizard(user=self.manager, days=3)
        self.assertEqual(
            self.url_open(f"/points_pool/simulation/{fresh.id}/csv").status_code, 404
        )
        # not logged in: sent to the login page, no data
        self.authenticate(None, None)
        response = self.url_open(url, allow_redirects=False)
        self.assertIn(response.status_code, (303, 302))
        self.assertIn("/web/login", response.headers["Location"])

    def test_non_manager_has_no_access(self):
        with self.assertRaises(AccessError):
            self._wizard(user=self.clerk, days=3)

    # ------------------------------------------------------------------
    # tour
    # ------------------------------------------------------------------
    def test_simulate_tour(self):
        self.start_tour("/odoo", "points_simulate", login="sim_manager")
        wizard = self.Simulation.search(
            [("create_uid", "=", self.manager.id)], order="id desc", limit=1
        )
        self.assertEqual((wizard.preset, wizard.days), ("run", 90))
        self.assertEqual(len(wizard.day_ids), 90)
        self.assertEqual(wizard.day_ids[0].price, 3.205345)
        self.assertEqual(wizard.day_ids.filtered("run")[0].day, 62)
