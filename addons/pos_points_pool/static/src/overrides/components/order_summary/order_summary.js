import { OrderSummary } from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";
import { patch } from "@web/core/utils/patch";
import { PointsPoolOrderPoints } from "@pos_points_pool/app/order_points/order_points";

patch(OrderSummary, {
    components: { ...OrderSummary.components, PointsPoolOrderPoints },
});
