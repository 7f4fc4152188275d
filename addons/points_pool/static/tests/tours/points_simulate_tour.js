import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * Simulate from the pool form: open the dashboard (the pool form), click
 * Simulate, pick the "A run on the pool" preset, shorten it to 90 days, run it
 * and see the three charts and the result table.  The seeds' pool from an
 * empty start reaches 3.205345 after day 0; holders first run on day 62.
 * The Python side (tests/test_simulate.py) checks the wizard afterwards.
 */
registry.category("web_tour.tours").add("points_simulate", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='points_pool.points_pool_menu_root']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_buttons button.o_points_simulate",
            run: "click",
        },
        {
            content: "The wizard opens on the steady preset",
            trigger: ".modal .o_field_widget[name='days'] input:value(365)",
        },
        {
            trigger: ".modal .o_field_widget[name='preset'] select",
            run: "selectByLabel A run on the pool",
        },
        {
            content: "The preset fills the fields",
            trigger: ".modal .o_field_widget[name='run_after_days'] input:value(3)",
        },
        {
            trigger: ".modal .o_field_widget[name='days'] input:value(120)",
            run: "edit 90 && click .modal-body",
        },
        {
            trigger: ".modal button[name='action_run']",
            run: "click",
        },
        ...[
            ["price", 1],
            ["cash", 2],
            ["exits", 2],
        ].map(([name, lines]) => ({
            content: `The ${name} chart is drawn by Chart.js over the 90 days`,
            trigger: `.modal .o_points_simulation_chart[data-chart='${name}'] canvas:visible`,
            run() {
                const chart = window.Chart && window.Chart.getChart(this.anchor);
                const datasets = (chart && chart.data.datasets) || [];
                if (
                    datasets.length !== lines ||
                    datasets.some((dataset) => dataset.data.length !== 90)
                ) {
                    throw new Error(`chart ${name} not drawn as expected`);
                }
            },
        })),
        {
            content: "The first day of the result table",
            trigger:
                ".modal .o_field_widget[name='day_ids'] .o_data_row:first td[name='price']:contains('3.205345')",
        },
        {
            content: "The summary shows paid out over spent",
            trigger: ".modal .o_field_widget[name='paid_over_spent']:not(:empty)",
        },
        {
            trigger: ".modal button[name='action_export_csv']:visible",
        },
    ],
});
