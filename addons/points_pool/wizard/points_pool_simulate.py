"""The "Simulate" wizard of the pool form (issue 13): a manager picks a preset
of the economics simulator (:mod:`..core.simulator`), adjusts it and runs it
from an empty pool or from a snapshot of this pool.

Nothing is booked: the simulator runs the pool engine over in-memory lots.  The
result is kept on the (transient) wizard: a JSON of the daily series for the
charts widget, one line per day for the table, the summary figures, and the
CSV text served by ``/points_pool/simulation/<id>/csv``.
"""

import csv
import io
from fractions import Fraction

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core import money, simulator
from ..core.pool import POINT_DIGITS

#: most simulated days
MAX_DAYS = 3650
#: most orders one run may book (a typo in the growth would run for minutes)
MAX_ORDERS = 200_000
#: the presets' amounts are in hundredths (1000.00 is 100000)
PRESET_DIGITS = 2
#: digits of the prices kept in the series and the lines
PRICE_DIGITS = simulator.PRICE_DIGITS

PRESETS = [
    ("steady", "Steady"),
    ("growth_then_stop", "Growth then stop"),
    ("stop_today", "New orders stop today"),
    ("run", "A run on the pool"),
    ("subsidies", "With subsidies"),
]

#: wizard field -> how to read it from a core Scenario (shares in percent)
_PERCENT_FIELDS = {
    "contribution_share": "contribution_rate",
    "repeat_share": "repeat_share",
    "run_share": "run_share",
}


def _fraction(value):
    return money.fraction_of(value or 0.0)


def _price(value):
    return float(simulator.format_price(value))


class PointsPoolSimulation(models.TransientModel):
    """What-if run of the pool economics (changes nothing)."""

    _name = "points.pool.simulation"
    _description = "Points Pool Simulation"

    pool_id = fields.Many2one("points.pool", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="pool_id.currency_id")
    preset = fields.Selection(PRESETS, required=True, default="steady")
    start = fields.Selection(
        [("empty", "Empty pool"), ("snapshot", "Snapshot of this pool")],
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        required=True,
        help="Start from an empty pool with this pool's terms, or from this "
        "pool's fund, supply, reserve and open lots (caps, realized and held "
        "points) as they are now.",
    )
    days = fields.Integer(
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        required=True,
    )
    orders_per_day = fields.Float(
        "Orders per day",
        digits=(16, 4),
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Orders on the first day; fractions of an order carry over.",
    )
    growth_pct = fields.Float(
        "Growth % per day",
        digits=(16, 4),
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Daily growth of the number of orders, compounded.",
    )
    stop_orders = fields.Boolean(
        "Orders stop",
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
    )
    stop_day = fields.Integer(
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="First day without new orders (day 0 is the first day).",
    )
    order_amount = fields.Monetary(
        compute="_compute_from_preset", precompute=True, store=True, readonly=False
    )
    contribution_share = fields.Float(
        "Contribution %",
        digits=(16, 4),
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Share of each order paid into the fund (this pool's rate).",
    )
    repeat_share = fields.Float(
        "Repeat buyers %",
        digits=(16, 4),
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Share of the orders placed by members who already bought.",
    )
    settle_after_days = fields.Integer(
        "Settle after days",
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Days between payment and minting (this pool's return window).",
    )
    run_share = fields.Float(
        "Run share %",
        digits=(16, 4),
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Share of the holders who sell all their free points on a run day; "
        "0 means no run.",
    )
    run_after_days = fields.Integer(
        "Run after k days",
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Holders run when the price has not risen for this many days.",
    )
    injection_per_day = fields.Monetary(
        "Injection per day",
        compute="_compute_from_preset",
        precompute=True,
        store=True,
        readonly=False,
        help="Platform money injected into the fund every day.",
    )
    seed = fields.Integer(default=0, help="Seed of the random draws.")

    # results
    result = fields.Json(readonly=True, copy=False)
    day_ids = fields.One2many(
        "points.pool.simulation.day", "simulation_id", readonly=True
    )
    has_result = fields.Boolean(readonly=True)
    result_orders = fields.Integer("Orders", readonly=True)
    result_members = fields.Integer("Members", readonly=True)
    total_spent = fields.Monetary("Spent", readonly=True)
    total_paid = fields.Monetary("Paid out", readonly=True)
    paid_over_spent = fields.Float(
        "Paid out ÷ spent", digits=(16, PRICE_DIGITS), readonly=True
    )
    recovered_share = fields.Float(
        "Got back their spend %",
        digits=(16, 4),
        readonly=True,
        help="Share of the members whose payouts reached what they spent.",
    )
    median_recovery = fields.Float(
        "Median recovery",
        digits=(16, PRICE_DIGITS),
        readonly=True,
        help="Median over the members of paid out ÷ spent.",
    )
    top1_share = fields.Float(
        "Top 1% share of payouts %",
        digits=(16, 4),
        readonly=True,
        help="Share of all payouts that went to the top 1% of members.",
    )
    final_price = fields.Float("Last price", digits=(16, PRICE_DIGITS), readonly=True)
    csv_data = fields.Text(readonly=True, copy=False)

    # ------------------------------------------------------------------
    # preset
    # ------------------------------------------------------------------
    @api.depends("preset", "pool_id")
    def _compute_from_preset(self):
        for wizard in self:
            wizard.update(wizard._preset_values())

    def _preset_values(self):
        """Field values of the selected preset, with this pool's own terms
        (contribution rate, return window)."""
        self.ensure_one()
        scenario = simulator.preset(self.preset or "steady")
        values = {
            "start": "snapshot" if self.preset == "stop_today" else "empty",
            "days": scenario.days,
            "orders_per_day": float(scenario.orders_per_day),
            "growth_pct": float(scenario.growth_pct),
            "stop_orders": scenario.stop_day is not None,
            "stop_day": scenario.stop_day or 0,
            "order_amount": money.to_float(scenario.order_amount, PRESET_DIGITS),
            "settle_after_days": scenario.settle_after_days,
            "run_after_days": scenario.run_after_days or 0,
            "injection_per_day": money.to_float(
                scenario.injection_per_day, PRESET_DIGITS
            ),
        }
        for name, core_name in _PERCENT_FIELDS.items():
            values[name] = float(getattr(scenario, core_name) * 100)
        if self.pool_id:
            values["contribution_share"] = self.pool_id.contribution_rate
            values["settle_after_days"] = self.pool_id.return_window_days
        return values

    # ------------------------------------------------------------------
    # inputs
    # ------------------------------------------------------------------
    @api.constrains(
        "days",
        "orders_per_day",
        "growth_pct",
        "stop_day",
        "order_amount",
        "contribution_share",
        "repeat_share",
        "settle_after_days",
        "run_share",
        "run_after_days",
        "injection_per_day",
        "seed",
    )
    def _check_inputs(self):
        for wizard in self:
            errors = wizard._input_errors()
            if errors:
                raise ValidationError("\n".join(errors))

    def _input_errors(self):
        self.ensure_one()
        errors = []
        if not 1 <= self.days <= MAX_DAYS:
            errors.append(
                _("The number of days must be between 1 and %(max)s.", max=MAX_DAYS)
            )
        if self.orders_per_day < 0:
            errors.append(_("The orders per day cannot be negative."))
        if not -100 < self.growth_pct <= 100:
            errors.append(
                _("The growth per day must be above -100 and at most 100 (percent).")
            )
        if self.stop_orders and self.stop_day < 0:
            errors.append(_("The stop day cannot be negative."))
        if self.order_amount <= 0:
            errors.append(_("The order amount must be positive."))
        if not 0 <= self.contribution_share <= 100:
            errors.append(_("The contribution share must be between 0 and 100."))
        if not 0 <= self.repeat_share <= 100:
            errors.append(_("The repeat buyers share must be between 0 and 100."))
        if not 0 <= self.run_share <= 100:
            errors.append(_("The run share must be between 0 and 100."))
        if self.settle_after_days < 0:
            errors.append(_("The days before settlement cannot be negative."))
        if self.run_after_days < 0:
            errors.append(_("The days before a run cannot be negative."))
        if self.injection_per_day < 0:
            errors.append(_("The injection per day cannot be negative."))
        if self.seed < 0:
            errors.append(_("The seed cannot be negative."))
        return errors

    def _digits(self):
        return self.currency_id.decimal_places if self.currency_id else 2

    def _scenario(self):
        """The core :class:`Scenario` of the fields (exact fractions)."""
        self.ensure_one()
        self._check_inputs()
        digits = self._digits()
        pct = Fraction(100)
        run_share = _fraction(self.run_share) / pct
        try:
            scenario = simulator.Scenario(
                days=self.days,
                orders_per_day=_fraction(self.orders_per_day),
                growth_pct=_fraction(self.growth_pct),
                stop_day=self.stop_day if self.stop_orders else None,
                order_amount=money.round_minor(self.order_amount, digits),
                contribution_rate=_fraction(self.contribution_share) / pct,
                settle_after_days=self.settle_after_days,
                repeat_share=_fraction(self.repeat_share) / pct,
                injection_per_day=money.round_minor(self.injection_per_day, digits),
                run_after_days=self.run_after_days if run_share > 0 else None,
                run_share=run_share,
                seed=self.seed,
            )
            orders = sum(scenario.order_counts())
        except ValueError as error:
            raise ValidationError(
                _("This scenario cannot be simulated: %(error)s", error=error)
            ) from error
        if orders > MAX_ORDERS:
            raise ValidationError(
                _(
                    "This scenario books %(orders)s orders; at most %(max)s can be "
                    "simulated. Lower the days, the orders per day or the growth.",
                    orders=orders,
                    max=MAX_ORDERS,
                )
            )
        return scenario

    def _snapshot(self):
        if self.start == "snapshot":
            return self.pool_id._simulation_snapshot()
        return None

    # ------------------------------------------------------------------
    # run
    # ------------------------------------------------------------------
    def _simulate(self):
        """The core :class:`SimulationResult` of this wizard."""
        self.ensure_one()
        scenario = self._scenario()
        params = self.pool_id._get_params()
        try:
            return simulator.simulate(scenario, params, self._snapshot())
        except ValueError as error:
            raise ValidationError(
                _("This scenario cannot be simulated: %(error)s", error=error)
            ) from error

    def action_run(self):
        self.ensure_one()
        result = self._simulate()
        self.day_ids.unlink()
        self.write(self._result_values(result))
        return self._reopen()

    def action_export_csv(self):
        self.ensure_one()
        if not self.csv_data:
            raise ValidationError(_("Run the simulation first."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/points_pool/simulation/{self.id}/csv",
            "target": "download",
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Simulate"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": dict(self.env.context, dialog_size="extra-large"),
        }

    def _result_values(self, result):
        """Field values (series, lines, summary, CSV) of a core result."""
        digits = result.params.digits

        def cash(minor):
            return money.to_float(minor, digits)

        rows = result.days
        series = {
            "day": [row.day for row in rows],
            "price": [_price(row.price) for row in rows],
            "fund": [cash(row.fund) for row in rows],
            "supply": [money.to_float(row.supply, POINT_DIGITS) for row in rows],
            "reserve": [cash(row.reserve) for row in rows],
            "exits": [row.exits for row in rows],
            "sells": [row.sells for row in rows],
            "paid": [cash(row.paid) for row in rows],
            "cum_paid": [cash(row.cum_paid) for row in rows],
            "cum_spent": [cash(row.cum_spent) for row in rows],
        }
        summary = result.summary

        def share(value, scale=1):
            return None if value is None else float(value * scale)

        figures = {
            "days": summary.days,
            "orders": summary.orders,
            "members": summary.members,
            "spent": cash(summary.spent),
            "paid": cash(summary.paid),
            "injected": cash(summary.injected),
            "exits": summary.exits,
            "sells": summary.sells,
            "paid_over_spent": share(summary.paid_over_spent),
            "recovered_share": share(summary.recovered_share, 100),
            "median_recovery": share(summary.median_recovery),
            "top1_share": share(summary.top1_share, 100),
            "price": _price(summary.price),
        }
        stream = io.StringIO()
        csv.writer(stream, lineterminator="\n").writerows(result.to_csv_rows())
        return {
            "has_result": True,
            "result": {
                "series": series,
                "summary": figures,
                "currency": self.currency_id.symbol or "",
                "labels": self._chart_labels(),
            },
            "day_ids": [
                fields.Command.create(
                    {
                        "day": row.day,
                        "orders": row.orders,
                        "run": row.run,
                        "spent": cash(row.spent),
                        "price": _price(row.price),
                        "fund": cash(row.fund),
                        "supply": money.to_float(row.supply, POINT_DIGITS),
                        "reserve": cash(row.reserve),
                        "exits": row.exits,
                        "sells": row.sells,
                        "paid": cash(row.paid),
                        "cum_spent": cash(row.cum_spent),
                        "cum_paid": cash(row.cum_paid),
                    }
                )
                for row in rows
            ],
            "result_orders": summary.orders,
            "result_members": summary.members,
            "total_spent": cash(summary.spent),
            "total_paid": cash(summary.paid),
            "paid_over_spent": figures["paid_over_spent"] or 0.0,
            "recovered_share": figures["recovered_share"] or 0.0,
            "median_recovery": figures["median_recovery"] or 0.0,
            "top1_share": figures["top1_share"] or 0.0,
            "final_price": figures["price"],
            "csv_data": stream.getvalue(),
        }

    def _chart_labels(self):
        """Translated titles and legends of the charts widget."""
        return {
            "price": _("Price"),
            "price_title": _("Price over days"),
            "cash_title": _("Cash paid out and cumulative spend"),
            "cum_paid": _("Cash paid out (cumulative)"),
            "cum_spent": _("Spend (cumulative)"),
            "exits_title": _("Exits per day"),
            "exits": _("Forced exits"),
            "sells": _("Voluntary sells"),
            "day": _("Day"),
        }


class PointsPoolSimulationDay(models.TransientModel):
    """One simulated day (end-of-day figures and what happened in it)."""

    _name = "points.pool.simulation.day"
    _description = "Points Pool Simulation Day"
    _order = "day"

    simulation_id = fields.Many2one(
        "points.pool.simulation", required=True, ondelete="cascade", index=True
    )
    currency_id = fields.Many2one(related="simulation_id.currency_id")
    day = fields.Integer(readonly=True)
    orders = fields.Integer(readonly=True)
    run = fields.Boolean(readonly=True, help="Holders ran on this day.")
    spent = fields.Monetary(readonly=True)
    price = fields.Float(digits=(16, PRICE_DIGITS), readonly=True)
    fund = fields.Monetary(readonly=True)
    supply = fields.Float(digits=(16, POINT_DIGITS), readonly=True)
    reserve = fields.Monetary(readonly=True)
    exits = fields.Integer("Forced exits", readonly=True)
    sells = fields.Integer("Voluntary sells", readonly=True)
    paid = fields.Monetary("Cash paid out", readonly=True)
    cum_spent = fields.Monetary("Cumulative spend", readonly=True)
    cum_paid = fields.Monetary("Cumulative paid out", readonly=True)
