import * as Chrome from "@point_of_sale/../tests/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/tours/utils/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/tours/utils/receipt_screen_util";
import * as TicketScreen from "@point_of_sale/../tests/tours/utils/ticket_screen_util";
import { inLeftSide, scan_barcode } from "@point_of_sale/../tests/tours/utils/common";
import { registry } from "@web/core/registry";

// fixed by the Python test (tests/test_tour.py)
const MEMBER_NAME = "Pool Member Tour";
const MEMBER_CODE = "TQURK7M9PX";
const OTHER_NAME = "Pool Member Scan";
const OTHER_URL = "https://shop.example.com/r/TQURK7M9PY";

function openMemberDialog() {
    return [
        ...ProductScreen.clickControlButtonMore().filter((step) =>
            step.isActive?.includes("mobile")
        ),
        {
            content: "open the points member dialog",
            trigger: ".pos-points-pool-button",
            run: "click",
        },
        {
            content: "the member dialog is open",
            trigger: ".modal .pos-points-pool-dialog .pos-points-pool-query",
        },
    ];
}

function searchMember(query) {
    return [
        {
            content: `type '${query}' in the member dialog`,
            trigger: ".modal .pos-points-pool-query",
            run: `edit ${query}`,
        },
        {
            content: "press Enter: the server looks the member up",
            trigger: ".modal .pos-points-pool-query",
            run: "press Enter",
        },
    ];
}

function pickMember(name) {
    return [
        {
            content: `the lookup found '${name}', a member with points`,
            trigger: `.modal .pos-points-pool-result:contains("${name}") .pos-points-pool-result-points`,
        },
        {
            content: `pick '${name}'`,
            trigger: `.modal .pos-points-pool-result:contains("${name}")`,
            run: "click",
        },
        {
            content: "the dialog closed",
            trigger: "body:not(:has(.modal .pos-points-pool-dialog))",
        },
    ];
}

//: what the order screen showed the order earns ("This order earns ≈ X points"),
//: as the server displayed it: the receipt must print exactly that number
let estimatedPoints = null;

function estimateShown() {
    return inLeftSide([
        {
            content: "the order shows the member's points and the price",
            trigger: ".pos-points-pool-order .pos-points-pool-member-points:contains('Member points:')",
        },
        {
            content: "the order shows the price",
            trigger: ".pos-points-pool-order .pos-points-pool-price:contains('Price:')",
        },
        {
            content: "the order shows what it earns (asked to the server)",
            trigger:
                ".pos-points-pool-order .pos-points-pool-estimate:not(.opacity-50):contains('This order earns ≈')",
            run() {
                const text = this.anchor.textContent.trim();
                const match = /This order earns ≈ (\S+) points/.exec(text);
                if (!match) {
                    throw new Error(`no points in the estimate: '${text}'`);
                }
                estimatedPoints = match[1];
            },
        },
    ]);
}

function receiptPointsAsEstimated() {
    return {
        content: "the receipt prints the points the order screen estimated, pending until the return window closes",
        trigger:
            ".pos-receipt .pos-points-pool-receipt .pos-points-pool-points:contains('pending until')",
        run() {
            const text = this.anchor.textContent.trim();
            const expected = `Points: ${estimatedPoints}, pending until `;
            if (!estimatedPoints || !text.startsWith(expected)) {
                throw new Error(
                    `the receipt prints '${text}', expected it to start with '${expected}'`
                );
            }
        },
    };
}

function payCash() {
    return [
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("Cash"),
        PaymentScreen.clickValidate(),
        ReceiptScreen.isShown(),
    ].flat();
}

// 1. (the register is opened) the cashier finds the member by the referral
// code, sells, is paid; the receipt prints the points (tests/test_tour.py
// then asserts the order, its pending lot, the ledger and the pool)
registry.category("web_tour.tours").add("PosPointsPoolSellTour", {
    checkDelay: 50,
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),

            // the cashier finds the member by the referral code
            openMemberDialog(),
            searchMember(MEMBER_CODE),
            pickMember(MEMBER_NAME),
            ProductScreen.customerIsSelected(MEMBER_NAME),

            // a sale: the server estimates what it earns
            ProductScreen.clickDisplayedProduct("Desk Organizer"),
            ProductScreen.selectedOrderlineHas("Desk Organizer", "1.00"),
            estimateShown(),
            payCash(),
            receiptPointsAsEstimated(),
            {
                content: "the receipt prints the balance",
                trigger: ".pos-receipt .pos-points-pool-receipt .pos-points-pool-balance:contains('Balance:')",
            },
            {
                content: "the receipt prints the price",
                trigger: ".pos-receipt .pos-points-pool-receipt .pos-points-pool-price:contains('Price:')",
            },
            {
                content: "the receipt prints the progress to exit",
                trigger:
                    ".pos-receipt .pos-points-pool-receipt .pos-points-pool-progress:contains('Progress to exit:')",
            },
            {
                content: "the receipt prints the disclosure",
                trigger: ".pos-receipt .pos-points-pool-receipt .pos-points-pool-disclosure",
            },
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),
        ].flat(),
});

// 2. the same session (the register is open already): the sale of tour 1 is
// refunded in full; then a scanned referral link sets the customer of a new
// order (tests/test_tour.py then asserts the refund and the pool)
registry.category("web_tour.tours").add("PosPointsPoolRefundTour", {
    checkDelay: 50,
    steps: () =>
        [
            Chrome.startPoS(),

            // the sale is refunded in full
            ...ProductScreen.clickRefund(),
            TicketScreen.selectOrder("-0001"),
            ProductScreen.clickNumpad("1"),
            TicketScreen.toRefundTextContains("To Refund: 1.00"),
            TicketScreen.confirmRefund(),
            ProductScreen.isShown(),
            ProductScreen.customerIsSelected(MEMBER_NAME),
            payCash(),
            ReceiptScreen.clickNextOrder(),
            ProductScreen.isShown(),

            // a scanned referral link sets the customer of a new order
            ProductScreen.orderIsEmpty(),
            scan_barcode(OTHER_URL),
            ProductScreen.customerIsSelected(OTHER_NAME),
        ].flat(),
});
