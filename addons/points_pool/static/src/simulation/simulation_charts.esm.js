import { Component, onWillStart, useEffect, useRef } from "@odoo/owl";
import { getColor, hexToRGBA } from "@web/core/colors/colors";
import { _t } from "@web/core/l10n/translation";
import { loadBundle } from "@web/core/assets";
import { cookie } from "@web/core/browser/cookie";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * Charts of a pool simulation (points.pool.simulation.result, a JSON field):
 * price over days; cumulative cash paid out against cumulative spend; forced
 * exits and voluntary sells per day.  Drawn with Odoo's own Chart.js bundle
 * (web.chartjs_lib), like the graph view.
 *
 * The value is ``{series: {day, price, cum_paid, cum_spent, exits, sells,
 * ...}, summary, currency, labels}`` (see wizard/points_pool_simulate.py);
 * ``labels`` carries the server-translated titles.
 */
export class PointsSimulationCharts extends Component {
    static template = "points_pool.SimulationCharts";
    static props = { ...standardFieldProps };

    setup() {
        this.charts = [];
        this.priceRef = useRef("price");
        this.cashRef = useRef("cash");
        this.exitsRef = useRef("exits");
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                this.renderCharts();
                return () => this.destroyCharts();
            },
            () => [this.value]
        );
    }

    get value() {
        return this.props.record.data[this.props.name] || null;
    }

    get series() {
        return (this.value && this.value.series) || null;
    }

    label(key, fallback) {
        const labels = (this.value && this.value.labels) || {};
        return labels[key] || fallback;
    }

    /** A colour of the small palette: blue, red, teal, orange, purple, yellow. */
    color(index, opacity) {
        const hex = getColor(index, cookie.get("color_scheme"), "sm");
        return opacity ? hexToRGBA(hex, opacity) : hex;
    }

    dataset(label, data, index, extra = {}) {
        return {
            label,
            data,
            borderColor: this.color(index),
            backgroundColor: this.color(index, 0.2),
            borderWidth: 2,
            pointRadius: 0,
            tension: 0,
            ...extra,
        };
    }

    config(title, datasets, yTitle) {
        const series = this.series;
        return {
            type: "line",
            data: { labels: series.day, datasets },
            options: {
                animation: false,
                maintainAspectRatio: false,
                interaction: { intersect: false, mode: "index" },
                plugins: {
                    title: { display: true, text: title },
                    legend: { display: datasets.length > 1 },
                },
                scales: {
                    x: {
                        title: { display: true, text: this.label("day", _t("Day")) },
                        ticks: { maxTicksLimit: 10, maxRotation: 0 },
                    },
                    y: {
                        beginAtZero: true,
                        title: { display: Boolean(yTitle), text: yTitle || "" },
                    },
                },
            },
        };
    }

    chartConfigs() {
        const series = this.series;
        const currency = (this.value && this.value.currency) || "";
        return [
            [
                this.priceRef,
                this.config(
                    this.label("price_title", _t("Price over days")),
                    [this.dataset(this.label("price", _t("Price")), series.price, 0)],
                    currency
                ),
            ],
            [
                this.cashRef,
                this.config(
                    this.label("cash_title", _t("Cash paid out and cumulative spend")),
                    [
                        this.dataset(
                            this.label("cum_paid", _t("Cash paid out (cumulative)")),
                            series.cum_paid,
                            2
                        ),
                        this.dataset(
                            this.label("cum_spent", _t("Spend (cumulative)")),
                            series.cum_spent,
                            1
                        ),
                    ],
                    currency
                ),
            ],
            [
                this.exitsRef,
                this.config(this.label("exits_title", _t("Exits per day")), [
                    this.dataset(this.label("exits", _t("Forced exits")), series.exits, 1, {
                        stepped: true,
                    }),
                    this.dataset(
                        this.label("sells", _t("Voluntary sells")),
                        series.sells,
                        3,
                        { stepped: true }
                    ),
                ]),
            ],
        ];
    }

    renderCharts() {
        this.destroyCharts();
        if (!this.series || !window.Chart) {
            return;
        }
        for (const [ref, config] of this.chartConfigs()) {
            if (ref.el) {
                this.charts.push(new window.Chart(ref.el, config));
            }
        }
    }

    destroyCharts() {
        for (const chart of this.charts) {
            chart.destroy();
        }
        this.charts = [];
    }
}

export const pointsSimulationCharts = {
    component: PointsSimulationCharts,
    displayName: _t("Simulation charts"),
    supportedTypes: ["json"],
};

registry.category("fields").add("points_simulation_charts", pointsSimulationCharts);
