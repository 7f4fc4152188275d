from fractions import Fraction

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import money
from ..core.pool import LOT_EXITED

LOT_STATE_SELECTION = [
    ("pending", "Pending"),
    ("open", "Open"),
    ("closed", "Sold out"),
    ("exited", "Exited"),
    ("cancelled", "Cancelled"),
]


class PointsLot(models.Model):
    """One paid order of one member: its basis, cap, inflow and units (SPEC 2).

    Written only by the pool engine (``points.pool._operation``) through SQL;
    the exit trigger ``trigger_price`` is stored rounded up and indexed so the
    exit cascade never scans lots or members.
    """

    _name = "points.lot"
    _description = "Points Lot"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name")
    pool_id = fields.Many2one("points.pool", required=True, index=True, readonly=True)
    company_id = fields.Many2one(related="pool_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="pool_id.currency_id")
    member_id = fields.Many2one(
        "points.member", required=True, index=True, readonly=True, check_company=True
    )
    partner_id = fields.Many2one(related="member_id.partner_id", store=True, index=True)
    # what the order source said of the order (core.order.OrderInput): the
    # pool and the commissions read these, never the source's own models
    source_key = fields.Char(
        "Booking key",
        readonly=True,
        copy=False,
        help="Idempotency key of the booking: one live lot per key.",
    )
    origin_key = fields.Char(
        "Order key",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="What a refund of the order names to reach its lots.",
    )
    source_ref = fields.Char("Source document", readonly=True, copy=False)
    margin = fields.Monetary(readonly=True)
    units = fields.Json("Products", readonly=True, copy=False)
    store_id = fields.Many2one("res.partner", readonly=True, index="btree_not_null")
    service_point_id = fields.Many2one(
        "points.service.point",
        readonly=True,
        index="btree_not_null",
        check_company=True,
    )
    pickup_date = fields.Datetime("Pickup verified", readonly=True)
    address_id = fields.Many2one("res.partner", "Delivery address", readonly=True)
    sale_order_id = fields.Many2one(
        "sale.order", index="btree_not_null", readonly=True, check_company=True
    )
    invoice_id = fields.Many2one(
        "account.move", index="btree_not_null", readonly=True, check_company=True
    )
    state = fields.Selection(
        LOT_STATE_SELECTION, default="pending", required=True, readonly=True
    )
    date_paid = fields.Datetime(readonly=True)
    settle_date = fields.Datetime(readonly=True, index=True)
    basis = fields.Monetary("Consumption", readonly=True)
    inflow = fields.Monetary(readonly=True)
    cap = fields.Monetary(readonly=True)
    minted = fields.Float(digits="Points", readonly=True)
    held = fields.Float(digits="Points", readonly=True)
    locked = fields.Float(digits="Points", readonly=True)
    realized = fields.Monetary("Realized gross", readonly=True)
    paid = fields.Monetary("Net paid out", readonly=True)
    trigger_price = fields.Float("Exit trigger price", digits=(24, 12), readonly=True)
    refunded_share = fields.Char(
        readonly=True,
        copy=False,
        help="Share of the original order refunded so far, as an exact ratio.",
    )
    refunded_percent = fields.Float(
        "Refunded (%)",
        digits=(16, 6),
        readonly=True,
        copy=False,
        help="Share of the original order refunded so far: refunds are shares of the "
        "order as paid, so credit notes adding up to the whole order leave nothing.",
    )
    value = fields.Monetary(compute="_compute_value")
    exit_progress = fields.Float("Progress to exit (%)", compute="_compute_value")

    def init(self):
        # the exit cascade reads open lots by trigger price: keep that an index scan
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_lot_exit_idx ON points_lot "
            "(pool_id, trigger_price, id) WHERE state = 'open'"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_lot_member_open_idx ON points_lot "
            "(member_id, settle_date, id) WHERE state = 'open'"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_lot_pending_idx ON points_lot "
            "(pool_id, settle_date, id) WHERE state = 'pending'"
        )
        # one live lot per booking key: a replayed payment or a POS order synced
        # twice books nothing (the seam inserts with ON CONFLICT DO NOTHING on it)
        self.env.cr.execute("DROP INDEX IF EXISTS points_lot_source_uniq")
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS points_lot_source_key_uniq ON points_lot "
            "(source_key) WHERE state != 'cancelled'"
        )

    @api.model
    def _get_source_links(self):
        """Lot fields an order source may fill through ``OrderInput.links`` (a
        source addon adds its own, e.g. ``pos_order_id``); commission lines
        carry the same links when they have the field."""
        return ("sale_order_id", "invoice_id")

    @api.depends("source_ref")
    def _compute_name(self):
        for lot in self:
            lot.name = f"#{lot.id} {lot.source_ref or ''}".strip()

    @api.depends("held", "realized", "cap", "pool_id.fund", "pool_id.supply")
    def _compute_value(self):
        for lot in self:
            price = lot.pool_id.price_exact
            lot.value = lot.currency_id.round(lot.held * price)
            if lot.cap and lot.state == "open":
                lot.exit_progress = min(
                    100.0, 100.0 * (lot.realized + lot.value) / lot.cap
                )
            elif lot.state == LOT_EXITED:
                lot.exit_progress = 100.0
            else:
                lot.exit_progress = 0.0

    @api.ondelete(at_uninstall=False)
    def _unlink_except_booked(self):
        raise UserError(_("Lots are part of the pool's books and cannot be deleted."))

    def _get_commission_bases(self):
        """``(basis, inflow, margin, units)`` of what is left of the lot's order
        (minor units): what its source booked, less the share refunded since."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        left = 1 - Fraction(self.refunded_share or 0)
        return (
            money.round_minor(self.basis, digits),
            money.round_minor(self.inflow, digits),
            int(left * money.round_minor(self.margin, digits)),
            {
                int(product): left * Fraction(qty)
                for product, qty in (self.units or {}).items()
                if left * Fraction(qty) > 0
            },
        )

    def _set_pickup_verified(self, date):
        """The order source says the order was picked up (service-point rule)."""
        self.env.cr.execute(
            SQL(
                "UPDATE points_lot SET pickup_date = %s WHERE id IN %s AND pickup_date IS NULL",
                date,
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["pickup_date"])

    def _is_still_paid(self):
        """At settlement: is the order's invoice still paid (not reset or reversed)?"""
        self.ensure_one()
        return not self.invoice_id or self.invoice_id.payment_state in (
            "paid",
            "in_payment",
        )
