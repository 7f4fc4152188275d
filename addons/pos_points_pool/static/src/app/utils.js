/**
 * Small pure helpers of the points pool at the till.  No points arithmetic here:
 * every number shown comes from the server.
 */

//: the alphabet of referral codes (points_pool/core/referral.py CODE_ALPHABET)
const CODE_RE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6,32}$/;
//: a referral link: ``https://shop.example/r/AB12CD``
const URL_RE = /\/r\/([A-Za-z0-9_-]+)\/?(?:[?#].*)?$/;

/**
 * The referral code a scanned or typed string stands for, or null.
 * A bare code must hold at least one letter (an all-digit string is far more
 * likely a product barcode).
 *
 * @param {string} value
 * @returns {string|null}
 */
export function pointsPoolReferralCode(value) {
    if (typeof value !== "string") {
        return null;
    }
    const trimmed = value.trim();
    const match = URL_RE.exec(trimmed);
    const raw = (match ? match[1] : trimmed).replace(/[\s-]/g, "").toUpperCase();
    if (!CODE_RE.test(raw)) {
        return null;
    }
    if (!match && !/[A-Z]/.test(raw)) {
        return null;
    }
    return raw;
}

/**
 * What the estimate depends on, as plain data and as a cache key.
 *
 * @param {import("@point_of_sale/app/models/pos_order").PosOrder} order
 * @returns {{ lines: Object[], key: string }}
 */
export function pointsPoolOrderLines(order) {
    const lines = [];
    for (const line of order.get_orderlines()) {
        const product = line.get_product();
        lines.push({
            product_id: product ? product.id : false,
            qty: line.get_quantity(),
            price_subtotal: line.get_price_without_tax(),
        });
    }
    const key = lines
        .map((l) => `${l.product_id}:${l.qty}:${Number(l.price_subtotal).toFixed(6)}`)
        .join(",");
    return { lines, key };
}
