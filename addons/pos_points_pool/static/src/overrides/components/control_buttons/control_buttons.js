import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";
import { patch } from "@web/core/utils/patch";
import { PointsMemberDialog } from "@pos_points_pool/app/member_dialog/member_dialog";

patch(ControlButtons.prototype, {
    clickPointsMember() {
        this.props.close?.();
        this.dialog.add(PointsMemberDialog, {});
    },
});
