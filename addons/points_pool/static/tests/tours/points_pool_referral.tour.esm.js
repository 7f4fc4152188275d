import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * Back office, referral network: the tree (hierarchy view) shows Alice with
 * Bob below her; Bob's member form shows his referrer, his upline and his
 * direct member Carol. The Python side (tests/test_frontend.py) binds
 * Alice -> Bob -> Carol and checks nothing else changed.
 */
registry.category("web_tour.tours").add("points_pool_referral", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='points_pool.points_pool_menu_root']",
            run: "click",
        },
        {
            trigger: ".o_main_navbar button:contains('Referrals')",
            run: "click",
        },
        {
            trigger: ".dropdown-menu a:contains('Referral Tree')",
            run: "click",
        },
        {
            content: "The hierarchy view shows the tree's root",
            trigger: ".o_hierarchy_view .o_hierarchy_node:contains('Alice')",
        },
        {
            trigger: ".o_switch_view.o_list",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td:contains('Bob')",
            run: "click",
        },
        {
            content: "Bob's node names his referrer",
            trigger: ".o_form_view .o_field_widget[name='parent_id']:contains('Alice')",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='member_id'] a, .o_form_view .o_field_widget[name='member_id'] .o_form_uri",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_notebook a:contains('Referral')",
            run: "click",
        },
        {
            content: "The upline lists Alice",
            trigger: ".o_form_view .o_field_widget[name='upline_ids'] td:contains('Alice')",
        },
        {
            content: "The direct team lists Carol",
            trigger: ".o_form_view .o_field_widget[name='direct_ids'] td:contains('Carol')",
        },
        {
            content: "One direct member, two in the team: smart buttons",
            trigger: ".o_form_view button[name='action_open_direct']:contains('1')",
        },
    ],
});
