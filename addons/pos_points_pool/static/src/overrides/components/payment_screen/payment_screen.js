import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

patch(PaymentScreen.prototype, {
    /**
     * The points credit method pays with the member's repurchase credit: the
     * amount defaults to the smaller of what is due and the member's credit
     * (both from the server), or, on a refund, to the credit it gives back.
     * The server checks it again when the order is synced.
     */
    async addNewPaymentLine(paymentMethod) {
        if (!paymentMethod.points_credit) {
            return await super.addNewPaymentLine(...arguments);
        }
        const order = this.currentOrder;
        const refund = order.getHasRefundLines();
        const amount = await this.pointsPoolCreditAmount(order, refund);
        if (amount === null) {
            return false;
        }
        const line = order.add_paymentline(paymentMethod);
        if (!line) {
            return false;
        }
        line.set_amount(amount);
        this.numberBuffer.reset();
        return true;
    },

    /** The amount to pay with points credit, or null (a message was shown). */
    async pointsPoolCreditAmount(order, refund) {
        const alert = (body) => {
            this.dialog.add(AlertDialog, { title: _t("Points credit"), body });
            return null;
        };
        const partner = order.get_partner();
        if (!partner) {
            return alert(_t("Set the customer first: points credit pays with a member's repurchase credit."));
        }
        const refundLines = order.lines
            .filter((line) => line.refunded_orderline_id)
            .map((line) => ({
                refunded_orderline_id: line.refunded_orderline_id.id,
                price_subtotal_incl: line.get_price_with_tax(),
            }));
        let info;
        try {
            info = await this.pos.data.call("pos.order", "points_pool_pos_credit", [
                this.pos.config.id,
                partner.id,
                refundLines,
            ]);
        } catch (error) {
            console.warn("points pool: credit unavailable", error);
            return alert(_t("The customer's points credit could not be read: try again online."));
        }
        if (!info || !info.member) {
            return alert(_t("%s is not a member of the points programme: no points credit to pay with.", partner.name));
        }
        if (refund) {
            if (!info.refund) {
                return alert(_t("The refunded order was not paid with points credit."));
            }
            return -info.refund;
        }
        if (!(info.credit > 0)) {
            return alert(_t("%s has no repurchase credit.", partner.name));
        }
        return Math.min(order.get_due(), info.credit);
    },
});
