import { registry } from "@web/core/registry";

/**
 * Member portal: see the position, sell 10 points (the confirmation shows the
 * payout after retention first), see the wallet, request a withdrawal of 5.
 * The Python side (tests/test_portal.py) prepares one order of 1000 for Alice
 * (210 points at 1.4286) and checks the ledger and the withdrawal afterwards.
 */
registry.category("web_tour.tours").add("points_pool_portal", {
    url: "/my/points",
    steps: () => [
        {
            content: "The overview shows the points held",
            trigger: ".o_points_position .o_points_held:contains('210.0000')",
        },
        {
            content: "The overview shows the point price",
            trigger: ".o_points_position .o_points_price:contains('1.4286')",
        },
        {
            content: "The overview shows the disclosure",
            trigger: ".o_points_disclosure:contains('not guaranteed')",
        },
        {
            trigger: "a.o_points_sell_button",
            run: "click",
        },
        {
            trigger: ".o_points_sell_form input[name='points']",
            run: "edit 10",
        },
        {
            trigger: ".o_points_sell_form button[type='submit']",
            run: "click",
        },
        {
            content: "80% of 10 x 1.4286 is shown before selling",
            trigger: ".o_points_quote .o_points_quote_payout:contains('11.42')",
        },
        {
            trigger: "button.o_points_sell_confirm",
            run: "click",
        },
        {
            content: "The sale is confirmed",
            trigger: ".o_points_sold:contains('11.42')",
        },
        {
            content: "The payout is in the wallet",
            trigger: ".o_points_position .o_points_wallet:contains('11.42')",
        },
        {
            trigger: "a.o_points_withdraw_button",
            run: "click",
        },
        {
            trigger: ".o_points_withdraw_form input[name='amount']",
            run: "edit 5",
        },
        {
            trigger: ".o_points_withdraw_form button[type='submit']",
            run: "click",
        },
        {
            content: "The request is listed as Requested",
            trigger: "tr.o_points_withdrawal .o_points_withdrawal_state:contains('Requested')",
        },
        {
            content: "Only the requested amount is still available",
            trigger: ".o_points_wallet_available:contains('6.42')",
        },
    ],
});
