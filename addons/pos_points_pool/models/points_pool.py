from odoo import _, api, fields, models
from odoo.tools import format_date

from odoo.addons.points_pool.core import money
from odoo.addons.points_pool.core.pool import LOT_PENDING, POINT_DIGITS


class PointsPool(models.Model):
    _inherit = "points.pool"

    @api.model
    def _refund_queue_models(self):
        """Also the refunds synced from the tills (``points_refund_pending``)."""
        return [*super()._refund_queue_models(), "pos.order"]

    def _pos_points_display(self, points):
        return f"{points:,.{POINT_DIGITS}f}".rstrip("0").rstrip(".") or "0"

    def _pos_price_display(self):
        self.ensure_one()
        return f"{self.currency_id.symbol or ''}{self.price_exact:.4f}"

    def _pos_receipt_values(self, order, lots, member):
        """What the receipt of ``order`` prints (booked points or the estimate
        while pending, the member's balance, price, progress to exit)."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        pending = lots.filtered(lambda lot: lot.state == LOT_PENDING)
        # point units: what is minted, plus the estimate of what is pending
        minted = sum(money.round_minor(lot.minted, POINT_DIGITS) for lot in lots)
        estimate = sum(
            self._estimate_points(money.round_minor(lot.inflow, digits))
            for lot in pending
        )
        points = money.to_float(minted + estimate, POINT_DIGITS)
        until = max(pending.mapped("settle_date")) if pending else False
        return {
            "booked": bool(lots),
            "state": LOT_PENDING if pending else (lots[:1].state or "refund"),
            "pending_until": format_date(self.env, until) if until else False,
            "points": points,
            "points_display": self._pos_points_display(points),
            "balance_display": self._pos_points_display(member.points_held),
            "price_display": self._pos_price_display(),
            "exit_progress": round(member.exit_progress, 2),
            "disclosure": self._pos_disclosure(),
        }

    def _pos_disclosure(self):
        return _(
            "Points depend on future purchases: not guaranteed, not a deposit, "
            "not an investment."
        )

    def _pos_member_values(self, partner, member):
        self.ensure_one()
        return {
            "id": partner.id,
            "name": partner.display_name,
            "phone": partner.phone or partner.mobile or "",
            "code": member.referral_code or False,
            "member": bool(member),
            "points": member.points_held,
            "points_display": self._pos_points_display(member.points_held),
            "credit": member.credit_balance,
            "credit_display": self.currency_id.format(member.credit_balance),
            "price": self.price,
            "price_display": self._pos_price_display(),
            "today": fields.Date.to_string(fields.Date.context_today(self)),
        }
