import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * Member portal: the "Copy" button next to the referral link.
 * The link stays in a readonly input, so it can always be selected by hand.
 */
publicWidget.registry.PointsReferralCopy = publicWidget.Widget.extend({
    selector: ".o_points_referral",
    events: {
        "click .o_points_copy": "_onCopyClick",
    },

    async _onCopyClick(ev) {
        const button = ev.currentTarget;
        const input = this.el.querySelector(".o_points_referral_link");
        if (!input) {
            return;
        }
        try {
            await navigator.clipboard.writeText(input.value);
        } catch {
            input.select();
            document.execCommand("copy");
        }
        if (button.dataset.copiedLabel) {
            button.textContent = button.dataset.copiedLabel;
        }
    },
});
