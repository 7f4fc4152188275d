import { onMounted } from "@odoo/owl";
import { ReceiptScreen } from "@point_of_sale/app/screens/receipt_screen/receipt_screen";
import { patch } from "@web/core/utils/patch";

patch(ReceiptScreen.prototype, {
    setup() {
        super.setup(...arguments);
        onMounted(() => {
            // the order is synced when the receipt shows: ask what it earned
            const order = this.currentOrder;
            if (order && !order.uiState.pointsPoolReceiptFetched) {
                this.pos.pointsPoolFetchReceipt(order);
            }
        });
    },
});
