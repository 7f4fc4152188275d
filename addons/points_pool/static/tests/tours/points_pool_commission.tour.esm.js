import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * Back office, commissions: a manager opens a draft plan, sees the SPEC 6
 * warning (referral pay above 10% of an order) and activates it. The Python
 * side (tests/test_frontend.py) then pays an order and checks the lines.
 */
registry.category("web_tour.tours").add("points_pool_commission", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='points_pool.points_pool_menu_root']",
            run: "click",
        },
        {
            trigger: ".o_main_navbar button:contains('Configuration')",
            run: "click",
        },
        {
            trigger: ".dropdown-menu a:contains('Commission Plans')",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td:contains('Tour plan')",
            run: "click",
        },
        {
            content: "The plan warns that referral pay is above 10% of an order",
            trigger: ".o_form_view .alert-warning:contains('above 10%')",
        },
        {
            content: "Paid depth 2",
            trigger: ".o_form_view .o_field_widget[name='depth']:contains('2')",
        },
        {
            trigger: ".o_form_view button[name='action_activate']",
            run: "click",
        },
        {
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The plan is active",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Active')",
        },
    ],
});
