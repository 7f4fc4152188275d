from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import money

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
        "points.member", required=True, index=True, readonly=True
    )
    partner_id = fields.Many2one(related="member_id.partner_id", store=True, index=True)
    sale_order_id = fields.Many2one("sale.order", index="btree_not_null", readonly=True)
    invoice_id = fields.Many2one("account.move", index="btree_not_null", readonly=True)
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
        # one live lot per (invoice, order): a replayed payment books nothing
        # (the checkout path inserts with ON CONFLICT DO NOTHING on it)
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS points_lot_source_uniq ON points_lot "
            "(invoice_id, sale_order_id) WHERE state != 'cancelled'"
        )

    @api.depends("sale_order_id", "invoice_id")
    def _compute_name(self):
        for lot in self:
            source = lot.sale_order_id.name or lot.invoice_id.name or ""
            lot.name = f"#{lot.id} {source}".strip()

    @api.depends("held", "realized", "cap", "pool_id.fund", "pool_id.supply")
    def _compute_value(self):
        for lot in self:
            price = lot.pool_id.price_exact
            lot.value = lot.currency_id.round(lot.held * price)
            if lot.cap and lot.state == "open":
                lot.exit_progress = min(
                    100.0, 100.0 * (lot.realized + lot.value) / lot.cap
                )
            elif lot.state == "exited":
                lot.exit_progress = 100.0
            else:
                lot.exit_progress = 0.0

    @api.ondelete(at_uninstall=False)
    def _unlink_except_booked(self):
        raise UserError(_("Lots are part of the pool's books and cannot be deleted."))

    def _get_commission_bases(self):
        """``(basis, inflow, margin, units)`` of the lot's order, minor units."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        bases = (
            self.invoice_id._points_pool_order_bases(self.pool_id).get(
                self.sale_order_id
            )
            if self.invoice_id
            else None
        )
        if bases:
            return bases
        basis = money.round_minor(self.basis, digits)
        return basis, money.round_minor(self.inflow, digits), basis, {}

    def _is_still_paid(self):
        """At settlement: is the order's invoice still paid (not reset or reversed)?"""
        self.ensure_one()
        return not self.invoice_id or self.invoice_id.payment_state in (
            "paid",
            "in_payment",
        )
