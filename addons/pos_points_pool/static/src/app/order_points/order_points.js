import { Component, onWillRender, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { debounce } from "@web/core/utils/timing";
import { usePos } from "@point_of_sale/app/store/pos_hook";

//: wait for the cashier to stop typing quantities before asking the server
const ESTIMATE_DELAY_MS = 300;

/**
 * Below the order: the customer's points, the pool's price and what the order
 * earns, all from the server (``res.partner.points_pool_pos_estimate``), asked
 * again (debounced) only when the customer or the lines change.
 */
export class PointsPoolOrderPoints extends Component {
    static template = "pos_points_pool.OrderPoints";
    static props = {};

    setup() {
        this.pos = usePos();
        this.state = useState({ revision: 0, loading: false, failed: false });
        this.requestedKey = null;
        this.pending = null;
        this.alive = true;
        this.fetchLater = debounce(() => this.fetch(), ESTIMATE_DELAY_MS);
        onWillRender(() => this.scheduleFetch());
        onWillUnmount(() => {
            this.alive = false;
            this.fetchLater.cancel?.();
        });
    }

    get order() {
        return this.pos.get_order();
    }

    /** Read during render: subscribes this component to the customer and lines. */
    get request() {
        return this.pos.pointsPoolEstimateRequest(this.order);
    }

    scheduleFetch() {
        const request = this.request;
        this.currentRequest = request;
        if (!request || request.key === this.requestedKey) {
            return;
        }
        this.requestedKey = request.key;
        if (this.pos.pointsPoolCachedEstimate(request.key) !== undefined) {
            return;
        }
        this.pending = request;
        this.fetchLater();
    }

    async fetch() {
        const request = this.pending;
        this.pending = null;
        if (!request || !this.alive) {
            return;
        }
        this.state.loading = true;
        const estimate = await this.pos.pointsPoolFetchEstimate(request);
        if (!this.alive) {
            return;
        }
        this.state.loading = false;
        this.state.failed = estimate === null && this.currentRequest?.key === request.key;
        if (estimate === null && this.requestedKey === request.key) {
            // ask again on the next change
            this.requestedKey = null;
        }
        this.state.revision++;
    }

    get estimate() {
        // the revision makes a render follow each answer
        void this.state.revision;
        const request = this.currentRequest;
        if (!request) {
            return undefined;
        }
        const estimate = this.pos.pointsPoolCachedEstimate(request.key);
        if (estimate !== undefined) {
            this.shown = { partnerId: request.partnerId, estimate };
            return estimate;
        }
        // while the new answer is on its way, keep showing the customer's last one
        if (this.shown && this.shown.partnerId === request.partnerId) {
            return this.shown.estimate;
        }
        return undefined;
    }

    get isStale() {
        const request = this.currentRequest;
        return Boolean(
            request && this.pos.pointsPoolCachedEstimate(request.key) === undefined
        );
    }

    get hasLines() {
        return Boolean(this.order?.get_orderlines().length);
    }

    get memberPointsText() {
        return _t("Member points: %s", this.estimate.member_points_display);
    }

    get priceText() {
        return _t("Price: %s", this.estimate.price_display);
    }

    get estimateText() {
        const estimate = this.estimate;
        if (!(estimate.points > 0)) {
            return _t("This order earns no points");
        }
        return _t("This order earns ≈ %s points", estimate.points_display);
    }
}
