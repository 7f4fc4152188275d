import { PosOrder } from "@point_of_sale/app/models/pos_order";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";
import { patch } from "@web/core/utils/patch";

patch(PosOrder.prototype, {
    /**
     * The lines the receipt prints of the order's points, from what the server
     * answered (``pos.order.points_pool_receipt``); null when the order earned
     * nothing or the answer is not there (yet).
     */
    getPointsPoolReceiptData() {
        const values = this.uiState?.pointsPoolReceipt;
        if (!values) {
            return null;
        }
        const pending = values.state === "pending" && values.pending_until;
        const progress =
            typeof values.exit_progress === "number"
                ? formatFloat(values.exit_progress, { digits: [false, 2], trailingZeros: false })
                : null;
        return {
            state: values.state || "",
            booked: Boolean(values.booked),
            pointsLine: pending
                ? _t("Points: %(points)s, pending until %(date)s", {
                      points: values.points_display,
                      date: values.pending_until,
                  })
                : _t("Points: %s", values.points_display),
            balanceLine: values.balance_display ? _t("Balance: %s", values.balance_display) : "",
            priceLine: values.price_display ? _t("Price: %s", values.price_display) : "",
            progressLine: progress !== null ? _t("Progress to exit: %s", `${progress}%`) : "",
            disclosure: values.disclosure || "",
        };
    },

    export_for_printing(baseUrl, headerData) {
        const result = super.export_for_printing(...arguments);
        result.pointsPool = this.getPointsPoolReceiptData();
        return result;
    },
});
