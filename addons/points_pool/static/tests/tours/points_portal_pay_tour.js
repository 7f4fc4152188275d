import { registry } from "@web/core/registry";

/**
 * Member portal: pay part of an open invoice with repurchase credit.
 * The Python side (tests/test_portal_spend.py) gives Alice 300 of credit and
 * one open invoice of 500; the tour pays 120 of it from the overview's list and
 * the Python side checks the credit (180) and the invoice (380 left) afterwards.
 */
registry.category("web_tour.tours").add("points_portal_pay", {
    url: "/my/points",
    steps: () => [
        {
            content: "The overview shows the credit held",
            trigger: ".o_points_position .o_points_credit:contains('300.00')",
        },
        {
            content: "The open invoice is listed as payable with credit",
            trigger: ".o_points_pay_invoices tr.o_points_pay_invoice a.o_points_pay_link",
            run: "click",
        },
        {
            content: "The confirmation shows the amount due",
            trigger: ".o_points_pay_summary .o_points_pay_due:contains('500.00')",
        },
        {
            content: "The confirmation shows the credit available",
            trigger: ".o_points_pay_summary .o_points_pay_credit:contains('300.00')",
        },
        {
            content: "By default, as much as the credit allows",
            trigger: ".o_points_pay_form .o_points_pay_left:contains('200.00')",
        },
        {
            trigger: ".o_points_pay_form input[name='amount']",
            run: "edit 120",
        },
        {
            trigger: ".o_points_pay_form button.o_points_pay_confirm",
            run: "click",
        },
        {
            content: "The invoice page confirms the payment",
            trigger: ".o_points_paid .o_points_paid_amount:contains('120.00')",
        },
        {
            content: "The amount due is reduced",
            trigger: ".o_points_paid .o_points_paid_left:contains('380.00')",
        },
        {
            content: "Credit is left: the invoice still offers to pay with it",
            trigger: "a.o_points_pay_button",
        },
        {
            // the invoice page loads its chatter lazily: end once it is there, so
            // the browser is not closed while its stylesheets are still loading
            content: "The invoice's chatter is loaded",
            trigger: "#chatterRoot:shadow .o-mail-Chatter",
        },
    ],
});
