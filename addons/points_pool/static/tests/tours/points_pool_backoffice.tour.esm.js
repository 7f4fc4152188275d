import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * Back office: open the pool dashboard, go to a member, sell points through the
 * wizard (which shows the payout after retention first), see the wallet.
 * The Python side (tests/test_frontend.py) prepares one order of 1000 for Alice
 * (210 points at 1.4286) and checks the ledger afterwards.
 */
registry.category("web_tour.tours").add("points_pool_backoffice", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='points_pool.points_pool_menu_root']",
            run: "click",
        },
        {
            content: "The dashboard shows the seeds' first price",
            trigger: ".o_form_view .o_field_widget[name='price']:contains('1.4286')",
        },
        {
            trigger: ".o_form_view button[name='action_open_members']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td:contains('Alice')",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_open_sell']",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name='points'] input",
            run: "edit 10 && click .modal-body",
        },
        {
            content: "80% of 10 x 1.4286 is shown before selling",
            trigger: ".modal .o_field_widget[name='payout']:contains('11.42')",
        },
        {
            trigger: ".modal button[name='action_sell']",
            run: "click",
        },
        {
            content: "The payout is in the wallet",
            trigger: ".o_form_view .o_field_widget[name='wallet_balance']:contains('11.42')",
        },
    ],
});
