import { PosStore } from "@point_of_sale/app/store/pos_store";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { pointsPoolOrderLines } from "@pos_points_pool/app/utils";

//: estimates kept per till (keyed by config, customer and lines)
const ESTIMATE_CACHE_SIZE = 64;

patch(PosStore.prototype, {
    /**
     * Non-reactive state of the points pool (``this.unwatched`` is markRaw'd by
     * the store): the estimate cache and the requests in flight.
     */
    get pointsPoolCache() {
        const unwatched = this.unwatched;
        if (!unwatched.pointsPool) {
            unwatched.pointsPool = { estimates: new Map(), inflight: new Map() };
        }
        return unwatched.pointsPool;
    },

    /**
     * Members (or customers) matching a code, a referral link, a barcode, a phone
     * number or a part of a name: asked to the server, nothing is preloaded.
     *
     * @param {string} query
     * @returns {Promise<Object[]>}
     */
    async pointsPoolLookup(query) {
        query = (query || "").trim();
        if (!query) {
            return [];
        }
        const result = await this.data.call("res.partner", "points_pool_pos_lookup", [
            query,
            this.config.id,
        ]);
        return Array.isArray(result) ? result : [];
    },

    /**
     * The ``res.partner`` record of the till for ``partnerId``, read from the
     * server (and so loaded in the till's models) when the till does not have it.
     */
    async pointsPoolLoadPartner(partnerId) {
        let partner = this.models["res.partner"].get(partnerId);
        if (!partner) {
            const records = await this.data.read("res.partner", [partnerId]);
            partner = (records && records[0]) || this.models["res.partner"].get(partnerId);
        }
        return partner || false;
    },

    /**
     * Set the customer of ``order`` to the partner of a lookup result.
     *
     * @returns {Promise<Object|false>} the partner set, or false
     */
    async pointsPoolSetCustomer(result, order = this.get_order()) {
        if (!order || !result) {
            return false;
        }
        const current = order.get_partner();
        if (current && current.id === result.id) {
            return current;
        }
        if (current && order.getHasRefundLines()) {
            this.dialog.add(AlertDialog, {
                title: _t("Can't change customer"),
                body: _t(
                    "This order already has refund lines for %s. We can't change the customer associated to it. Create a new order for the new customer.",
                    current.name
                ),
            });
            return false;
        }
        const partner = await this.pointsPoolLoadPartner(result.id);
        if (!partner) {
            this.notification.add(_t("This customer could not be loaded."), {
                type: "danger",
            });
            return false;
        }
        order.set_partner(partner);
        return partner;
    },

    /**
     * The estimate request of ``order``: its lines (untaxed, order currency) and
     * the cache key of what the answer depends on.
     */
    pointsPoolEstimateRequest(order) {
        const partner = order?.get_partner();
        if (!partner) {
            return null;
        }
        const { lines, key } = pointsPoolOrderLines(order);
        return {
            partnerId: partner.id,
            lines,
            key: `${this.config.id}|${partner.id}|${order.currency?.id || ""}|${key}`,
        };
    },

    /** The cached estimate of a request key (undefined if not fetched yet). */
    pointsPoolCachedEstimate(key) {
        return key ? this.pointsPoolCache.estimates.get(key) : undefined;
    },

    /**
     * Ask the server what the order would earn (the till never computes
     * points): one request per distinct key, answers cached.
     *
     * @returns {Promise<Object|null>} the estimate, or null when unreachable
     */
    async pointsPoolFetchEstimate(request) {
        if (!request) {
            return null;
        }
        const cache = this.pointsPoolCache;
        if (cache.estimates.has(request.key)) {
            return cache.estimates.get(request.key);
        }
        if (cache.inflight.has(request.key)) {
            return cache.inflight.get(request.key);
        }
        if (this.data.network?.offline) {
            return null;
        }
        const promise = (async () => {
            try {
                const result = await this.data.orm.silent.call(
                    "res.partner",
                    "points_pool_pos_estimate",
                    [this.config.id, request.partnerId, request.lines]
                );
                const estimate = result || { active: false };
                cache.estimates.set(request.key, estimate);
                while (cache.estimates.size > ESTIMATE_CACHE_SIZE) {
                    cache.estimates.delete(cache.estimates.keys().next().value);
                }
                return estimate;
            } catch (error) {
                console.warn("points pool: estimate unavailable", error);
                return null;
            } finally {
                cache.inflight.delete(request.key);
            }
        })();
        cache.inflight.set(request.key, promise);
        return promise;
    },

    /** Forget the estimates (e.g. after a sale changed the member's points). */
    pointsPoolClearEstimates() {
        this.pointsPoolCache.estimates.clear();
    },

    /**
     * What the receipt of a synced order prints of its points; stored on the
     * order (``uiState.pointsPoolReceipt``) for the receipt to render.
     *
     * @returns {Promise<Object|null>}
     */
    async pointsPoolFetchReceipt(order) {
        if (!order || typeof order.id !== "number" || !order.uuid) {
            return null;
        }
        try {
            const result = await this.data.call("pos.order", "points_pool_receipt", [
                [order.uuid],
            ]);
            const values = (result && result[order.uuid]) || null;
            order.uiState.pointsPoolReceipt = values;
            order.uiState.pointsPoolReceiptFetched = true;
            if (values) {
                // the member's points changed: later estimates must be asked again
                this.pointsPoolClearEstimates();
            }
            return values;
        } catch (error) {
            console.warn("points pool: receipt data unavailable", error);
            return null;
        }
    },

    async printReceipt({ order = this.get_order(), ...options } = {}) {
        if (order && !order.uiState?.pointsPoolReceiptFetched && typeof order.id === "number") {
            await this.pointsPoolFetchReceipt(order);
        }
        return super.printReceipt({ order, ...options });
    },
});
