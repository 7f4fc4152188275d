import { Component, onMounted, useRef, useState } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { usePos } from "@point_of_sale/app/store/pos_hook";

/**
 * Find a member of the points programme: the cashier types or scans a referral
 * code, a referral link, a partner barcode, a phone number or a name; Enter asks
 * the server; choosing a result makes it the order's customer.
 */
export class PointsMemberDialog extends Component {
    static template = "pos_points_pool.PointsMemberDialog";
    static components = { Dialog };
    static props = {
        close: Function,
        startingValue: { type: String, optional: true },
        getPayload: { type: Function, optional: true },
    };
    static defaultProps = { startingValue: "" };

    setup() {
        this.pos = usePos();
        this.notification = useService("notification");
        this.inputRef = useRef("input");
        this.state = useState({
            query: this.props.startingValue,
            results: [],
            searched: "",
            loading: false,
            error: "",
        });
        this.searchSeq = 0;
        onMounted(() => {
            this.inputRef.el?.focus();
            if (this.state.query.trim()) {
                this.search();
            }
        });
    }

    get title() {
        return _t("Points member");
    }

    get store() {
        const store = this.pos.config.points_store_id;
        return store && typeof store === "object" && store.name ? store : null;
    }

    get currentPartnerId() {
        return this.pos.get_order()?.get_partner()?.id;
    }

    onKeydown(ev) {
        if (ev.key === "Enter") {
            ev.preventDefault();
            ev.stopPropagation();
            this.search();
        }
    }

    async search() {
        const query = (this.state.query || "").trim();
        if (!query) {
            this.inputRef.el?.focus();
            return;
        }
        const seq = ++this.searchSeq;
        this.state.loading = true;
        this.state.error = "";
        try {
            const results = await this.pos.pointsPoolLookup(query);
            if (seq !== this.searchSeq) {
                return;
            }
            this.state.results = results;
            this.state.searched = query;
        } catch (error) {
            if (seq !== this.searchSeq) {
                return;
            }
            console.warn("points pool: lookup failed", error);
            this.state.results = [];
            this.state.searched = "";
            this.state.error = _t("The server could not be reached. Check the connection and retry.");
        } finally {
            if (seq === this.searchSeq) {
                this.state.loading = false;
            }
        }
    }

    async pick(result) {
        const partner = await this.pos.pointsPoolSetCustomer(result);
        if (!partner) {
            return;
        }
        this.props.getPayload?.(partner);
        this.props.close();
    }

    close() {
        this.props.close();
    }
}
