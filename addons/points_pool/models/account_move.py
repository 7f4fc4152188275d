import logging
from collections import defaultdict
from datetime import timedelta
from fractions import Fraction

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry

from ..core import money
from ..core.pool import floor

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _inherit = "account.move"

    points_lot_ids = fields.One2many("points.lot", "invoice_id", string="Points lots")
    points_refund_pending = fields.Boolean(
        "Points refund queued",
        copy=False,
        readonly=True,
        help="This credit note's refund of points waits to be applied to the pool "
        "(right after posting; the settlement job catches up otherwise).",
    )

    def init(self):
        super().init()
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS account_move_points_refund_pending_idx "
            "ON account_move (company_id, id) WHERE points_refund_pending"
        )

    # ------------------------------------------------------------------
    # the pool's own entries are never edited: corrections are new events
    # ------------------------------------------------------------------
    def button_draft(self):
        self._points_pool_check_not_booked()
        return super().button_draft()

    def button_cancel(self):
        self._points_pool_check_not_booked()
        return super().button_cancel()

    def _points_pool_check_not_booked(self):
        booked = (
            self.env["points.pool.move"]
            .sudo()
            .search_count([("account_move_id", "in", self.ids)], limit=1)
        )
        if booked:
            raise UserError(
                _(
                    "This entry books points pool events. It cannot be reset or cancelled: "
                    "book a correcting event (refund, injection) instead."
                )
            )

    # ------------------------------------------------------------------
    # payment: pending inflow (checkout path: no pool lock)
    # ------------------------------------------------------------------
    def _invoice_paid_hook(self):
        res = super()._invoice_paid_hook()
        self.filtered(
            lambda move: move.move_type == "out_invoice"
        )._points_pool_add_pending()
        return res

    def _points_pool_add_pending(self):
        """Insert one pending lot and ledger line per (paid invoice, sale order).

        Runs when an invoice becomes paid.  It never locks the pool row: the
        settlement job journalizes and mints later (SPEC section 2).
        """
        Pool = self.env["points.pool"].sudo()
        lot_vals, pools, bases = [], Pool, {}
        for invoice in self:
            pool = Pool._get_company_pool(invoice.company_id)
            if not pool.active:
                continue
            existing = invoice.points_lot_ids.filtered(
                lambda lot: lot.state != "cancelled"
            )
            by_order = invoice._points_pool_order_bases(
                pool,
                margin=self.env["points.commission.plan"]._uses_margin(
                    invoice.company_id.id
                ),
            )
            for order, (basis, inflow, margin, units) in by_order.items():
                if inflow <= 0 or order in existing.sale_order_id:
                    continue
                lot_vals.append((pool, invoice, order, basis, inflow))
                bases[invoice, order] = (basis, inflow, margin, units)
                pools |= pool
        if not lot_vals:
            return self.env["points.lot"]
        now = fields.Datetime.now()
        members = {
            (pool.id, partner.id): member
            for pool in pools
            for member in self.env["points.member"]._get_or_create(
                pool,
                self.env["res.partner"].union(
                    *[o.partner_id for p, _i, o, _b, _f in lot_vals if p == pool]
                ),
            )
            for partner in member.partner_id
        }
        vals_list = []
        for pool, invoice, order, basis, inflow in lot_vals:
            digits = pool.currency_id.decimal_places
            params = pool._get_params()
            member = members[pool.id, order.partner_id.commercial_partner_id.id]
            vals_list.append(
                {
                    "pool_id": pool.id,
                    "member_id": member.id,
                    "sale_order_id": order.id,
                    "invoice_id": invoice.id,
                    "state": "pending",
                    "date_paid": now,
                    "settle_date": now + timedelta(days=pool.return_window_days),
                    "basis": money.to_float(basis, digits),
                    "inflow": money.to_float(inflow, digits),
                    "cap": money.to_float(params.cap(basis), digits),
                }
            )
        lots = self.env["points.lot"].sudo().create(vals_list)
        self.env["points.pool.move"].sudo().create(
            [
                {
                    "pool_id": lot.pool_id.id,
                    "company_id": lot.company_id.id,
                    "kind": "pending",
                    "member_id": lot.member_id.id,
                    "lot_id": lot.id,
                    "pending": lot.inflow,
                    # priced when numbered (the first pool event after payment)
                    "price_before": 0.0,
                    "price_after": 0.0,
                    "res_model": "sale.order",
                    "res_id": lot.sale_order_id.id,
                    "idempotency_key": f"pending:{lot.id}",
                }
                for lot in lots
            ]
        )
        # commissions accrue on the same trigger (inserted, journalized by the job)
        self.env["points.commission.line"]._accrue_lots(
            lots, bases={lot: bases[lot.invoice_id, lot.sale_order_id] for lot in lots}
        )
        for pool in pools:
            if not pool.return_window_days:
                pool._trigger_settlement()
        return lots

    def _points_pool_order_amounts(self, pool):
        """Basis and inflow (minor units) of this invoice per sale order.

        Basis: untaxed amount in company currency.  Inflow: Σ rate x base, the
        rate of the product, else of its category, else of the pool.
        """
        self.ensure_one()
        return {
            order: (basis, inflow)
            for order, (
                basis,
                inflow,
                _margin,
                _units,
            ) in self._points_pool_order_bases(pool, margin=False).items()
        }

    def _points_pool_order_bases(self, pool, margin=True):
        """Basis, inflow, margin (minor units) and units per product of this
        invoice per sale order: the bases of the pool and of the commissions.

        The margin (which reads product costs) is computed only when the pool
        or a commission rule needs it (``margin``); otherwise it is 0.
        """
        self.ensure_one()
        margin_needed = margin or pool.contribution_base == "margin"
        digits = pool.currency_id.decimal_places
        default_rate = money.fraction_of(pool.contribution_rate) / 100
        amounts = defaultdict(lambda: [0, Fraction(0), 0, defaultdict(Fraction)])
        for line in self.invoice_line_ids:
            orders = line.sale_line_ids.order_id
            if not orders or line.display_type != "product":
                continue
            untaxed = money.round_minor(-line.balance, digits)
            margin = 0
            if margin_needed:
                cost = money.round_minor(
                    line.product_id.standard_price * line.quantity, digits
                )
                margin = max(untaxed - cost, 0)
            base = margin if pool.contribution_base == "margin" else untaxed
            rate = line.product_id._points_pool_rate()
            rate = default_rate if rate is None else rate
            entry = amounts[orders[:1]]
            entry[0] += untaxed
            entry[1] += rate * base
            entry[2] += margin
            entry[3][line.product_id.id] += money.fraction_of(line.quantity)
        # round each order's contribution half up, in the currency
        return {
            order: (basis, floor(inflow + Fraction(1, 2)), margin, dict(units))
            for order, (basis, inflow, margin, units) in amounts.items()
            if basis > 0
        }

    # ------------------------------------------------------------------
    # credit notes: refunds before and after settlement, exactly once
    # ------------------------------------------------------------------
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        refunds = posted.filtered(
            lambda move: (
                move.move_type == "out_refund" and move.reversed_entry_id.points_lot_ids
            )
        )
        if refunds:
            refunds._points_pool_queue_refund()
        return posted

    def _points_pool_queue_refund(self):
        """Queue the refund of points of these posted credit notes.

        The accountant's transaction never takes the pool lock (it would
        conflict with every pool event that commits meanwhile): it only marks
        the credit notes; the refund is applied as a pool event of its own
        right after the commit, exactly once (``refund:<credit note>:<lot>``).
        """
        self.write({"points_refund_pending": True})
        pools = self.reversed_entry_id.points_lot_ids.pool_id
        dbname, pool_ids = self.env.cr.dbname, tuple(pools.ids)

        def apply_after_commit():
            try:
                with Registry(dbname).cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["points.pool"]._process_refund_queue_apart(pool_ids)
            except Exception:  # the settlement job applies it later
                _logger.exception("points pool: refund queue of %s postponed", dbname)

        self.env.cr.postcommit.add(apply_after_commit)

    def _points_pool_refund(self):
        """Refund the lots of the reversed invoice pro rata to these credit notes.

        The fraction is the credit note's untaxed amount over the invoice's: a
        share of the *original* order, so credit notes that add up to the
        invoice leave nothing of its lots (the core keeps what was refunded).
        The idempotency key ``refund:<credit note>:<lot>`` makes a second
        processing of the same credit note a no-op.
        """
        Move = self.env["points.pool.move"].sudo()
        for refund in self:
            invoice = refund.reversed_entry_id
            if refund.points_refund_pending:
                refund.sudo().write({"points_refund_pending": False})
            if not invoice.amount_untaxed_signed or refund.state != "posted":
                continue
            fraction = min(
                Fraction(1),
                money.fraction_of(abs(refund.amount_untaxed_signed))
                / money.fraction_of(abs(invoice.amount_untaxed_signed)),
            )
            lots = invoice.points_lot_ids.filtered(lambda lot: lot.state != "cancelled")
            for pool in lots.pool_id:
                keys = {
                    lot: f"refund:{refund.id}:{lot.id}"
                    for lot in lots
                    if lot.pool_id == pool
                }
                todo = []
                with pool._operation(source=refund) as engine:
                    # under the lock: a concurrent run may have applied it
                    done = set(
                        Move.search(
                            [("idempotency_key", "in", list(keys.values()))]
                        ).mapped("idempotency_key")
                    )
                    firsts = []
                    for lot, key in keys.items():
                        core_lot = engine.store.get(lot.id)
                        if key in done or fraction <= 0 or core_lot.refunded >= 1:
                            continue
                        if core_lot.state == "cancelled":
                            continue
                        firsts.append((len(engine.events), key))
                        engine.refund(core_lot, fraction)
                        todo.append(lot)
                    engine.idempotency = firsts
                if not todo:
                    continue
                # commissions: the same share, once per (credit note, lot)
                self.env["points.commission.line"]._reverse_lots(
                    self.env["points.lot"].browse([lot.id for lot in todo]),
                    fraction,
                    f"refund:{refund.id}",
                    source=refund,
                )
                refund.message_post(
                    body=_(
                        "Points pool: %(share)s%% of the order's points refunded.",
                        share=round(float(fraction) * 100, 2),
                    )
                )
