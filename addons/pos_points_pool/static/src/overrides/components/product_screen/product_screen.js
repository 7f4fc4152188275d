import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { pointsPoolReferralCode } from "@pos_points_pool/app/utils";

patch(ProductScreen.prototype, {
    /**
     * A scanned referral code or link (a member's card, the QR of a phone)
     * makes that member the order's customer; anything else is a product as
     * before.  Only strings that can be a code and are no product barcode of
     * the till cost a request.
     */
    async _barcodeProductAction(code) {
        const raw = code.code || code.base_code || "";
        const referral = pointsPoolReferralCode(raw);
        if (
            referral &&
            !this.pos.models["product.product"].getBy("barcode", code.base_code) &&
            (await this._pointsPoolScanReferral(raw, referral))
        ) {
            return;
        }
        return super._barcodeProductAction(...arguments);
    },

    /** @returns {Promise<boolean>} whether the scan named a member */
    async _pointsPoolScanReferral(raw, referral) {
        let results;
        try {
            results = await this.pos.pointsPoolLookup(raw);
        } catch (error) {
            console.warn("points pool: lookup of a scanned code failed", error);
            return false;
        }
        const member = results.find((r) => r.code && r.code.toUpperCase() === referral);
        if (!member) {
            return false;
        }
        const partner = await this.pos.pointsPoolSetCustomer(member, this.currentOrder);
        if (partner) {
            this.notification.add(_t("Customer: %s", member.name), { type: "success" });
        }
        return true;
    },
});
