import logging
from collections import defaultdict
from fractions import Fraction

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tools import SQL

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
        res = super().init()
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS account_move_points_refund_pending_idx "
            "ON account_move (company_id, id) WHERE points_refund_pending"
        )
        return res

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
        """Book one pending lot and ledger line per (paid invoice, sale order).

        Runs when an invoice becomes paid: the checkout path.  It never locks
        the pool row and is set-based whatever the number of invoices: the
        pool's configuration comes from a cache, the order bases from one
        query, the members from one (plus an insert for newcomers), lots and
        ledger lines from one ``INSERT`` (``ON CONFLICT DO NOTHING`` on the
        (invoice, order) of a live lot, so a replayed payment books nothing),
        and the settlement job is triggered with one insert when the return
        window is 0.  The settlement job journalizes and mints later
        (SPEC section 2).
        :return: the lots created
        """
        Pool = self.env["points.pool"].sudo()
        Lot = self.env["points.lot"].sudo()
        created = Lot
        for company in self.company_id:
            invoices = self.filtered(lambda move, c=company: move.company_id == c)
            config = Pool._get_checkout_config(company.id)
            if config is None:  # first use: create the company's pool
                Pool._get_company_pool(company)
                config = Pool._get_checkout_config(company.id)
            if not config["active"]:
                continue
            pool = Pool.browse(config["pool_id"])
            # what the payment path reads of the pool, from the cached configuration
            self.env.cache.update(pool, Pool._fields["company_id"], [company.id])
            if "commission_hold_days" in config:
                self.env.cache.update(
                    pool,
                    Pool._fields["commission_hold_days"],
                    [config["commission_hold_days"]],
                )
            margin = self.env["points.commission.plan"]._uses_margin(company.id)
            bases = invoices._points_pool_bases(config, margin=margin)
            if not bases:
                continue
            members = self.env["points.member"]._get_or_create_ids(
                pool, sorted({partner_id for _inv, _order, partner_id in bases})
            )
            lots = pool._insert_pending(
                [
                    (invoice_id, order_id, members[partner_id], partner_id, amounts)
                    for (invoice_id, order_id, partner_id), amounts in bases.items()
                ],
                config,
            )
            created |= lots
            if lots and self.env["points.commission.plan"]._get_active_plan_id(
                company.id
            ):
                # commissions accrue on the same trigger (inserted, journalized by the job)
                by_lot = {
                    lot: bases[
                        lot.invoice_id.id, lot.sale_order_id.id, lot.partner_id.id
                    ]
                    for lot in lots
                }
                self.env["points.commission.line"]._accrue_lots(lots, bases=by_lot)
            if lots and not config["return_window_days"]:
                pool._trigger_settlement()
        return created

    def _points_pool_bases(self, config, margin=False):
        """Basis, inflow, margin (minor units) and units per product of these
        invoices, per (invoice, sale order, customer): the bases of the pool and
        of the commissions, in one query.

        Basis: untaxed amount in company currency.  Inflow: Σ rate x base, the
        rate of the product, else of its category (nearest first), else of the
        pool, rounded half up per order.  The margin (which reads product
        costs) is computed only when the pool or a commission rule needs it.

        :return: ``{(invoice id, order id, commercial partner id): (basis,
            inflow, margin, {product id: quantity})}``
        """
        if not self:
            return {}
        digits = config["digits"]
        margin_needed = margin or config["contribution_base"] == "margin"
        default_rate = Fraction(config["contribution_rate"]) / 100
        # the query reads these: what the ORM holds must be written first
        for model, names in (
            ("account.move.line", ["move_id", "product_id", "quantity", "balance"]),
            ("sale.order.line", ["order_id", "invoice_lines"]),
            (
                "sale.order",
                [
                    "partner_id",
                    "partner_shipping_id",
                    "points_store_id",
                    "points_service_point_id",
                    "points_pickup_date",
                ],
            ),
            ("res.partner", ["commercial_partner_id", "state_id", "city", "zip"]),
            ("product.product", ["product_tmpl_id"]),
            (
                "product.template",
                ["categ_id", "points_pool_rate_set", "points_pool_rate"],
            ),
            (
                "product.category",
                ["parent_path", "points_pool_rate_set", "points_pool_rate"],
            ),
        ):
            self.env[model].flush_model(names)
        self.env.cr.execute(
            SQL(
                """
                SELECT l.move_id, l.id, l.product_id, l.quantity::text, (-l.balance)::text,
                       o.id, rp.commercial_partner_id, o.partner_shipping_id,
                       o.points_store_id, o.points_service_point_id, o.points_pickup_date,
                       ship.state_id, ship.city, ship.zip,
                       CASE WHEN t.points_pool_rate_set THEN t.points_pool_rate::text END,
                       (SELECT c2.points_pool_rate::text FROM product_category c2
                         WHERE c2.points_pool_rate_set
                           AND c2.id::text = ANY(string_to_array(rtrim(c.parent_path, '/'), '/'))
                         ORDER BY length(c2.parent_path) DESC LIMIT 1)
                  FROM account_move_line l
                  JOIN LATERAL (SELECT sl.order_id FROM sale_order_line_invoice_rel r
                                  JOIN sale_order_line sl ON sl.id = r.order_line_id
                                 WHERE r.invoice_line_id = l.id
                                 ORDER BY sl.order_id LIMIT 1) AS rel ON TRUE
                  JOIN sale_order o ON o.id = rel.order_id
                  JOIN res_partner rp ON rp.id = o.partner_id
                  LEFT JOIN res_partner ship ON ship.id = o.partner_shipping_id
                  LEFT JOIN product_product p ON p.id = l.product_id
                  LEFT JOIN product_template t ON t.id = p.product_tmpl_id
                  LEFT JOIN product_category c ON c.id = t.categ_id
                 WHERE l.move_id = ANY(%s) AND l.display_type = 'product'
                 ORDER BY l.move_id, l.id
                """,
                self.ids,
            )
        )
        rows = self.env.cr.fetchall()
        # what the commission accrual reads of the orders, as the ORM would cache it
        orders = {row[5]: row[7:11] for row in rows}
        Order = self.env["sale.order"]
        records = Order.browse(list(orders))
        for index, name in enumerate(
            ("partner_shipping_id", "points_store_id", "points_service_point_id")
        ):
            self.env.cache.update(
                records, Order._fields[name], [orders[o][index] or None for o in orders]
            )
        self.env.cache.update(
            records,
            Order._fields["points_pickup_date"],
            [orders[o][3] or None for o in orders],
        )
        # and of the delivery addresses (the regional agents)
        addresses = {row[7]: row[11:14] for row in rows if row[7]}
        Partner = self.env["res.partner"]
        shipping = Partner.browse(list(addresses))
        for index, name in enumerate(("state_id", "city", "zip")):
            self.env.cache.update(
                shipping,
                Partner._fields[name],
                [
                    addresses[p][index] or (None if index == 0 else False)
                    for p in addresses
                ],
            )
        costs = {}
        if margin_needed:
            lines = self.env["account.move.line"].browse([row[1] for row in rows])
            costs = {
                line.id: money.round_minor(
                    line.product_id.standard_price * line.quantity, digits
                )
                for line in lines
            }
        amounts = defaultdict(lambda: [0, Fraction(0), 0, defaultdict(Fraction)])
        for (
            move_id,
            line_id,
            product_id,
            quantity,
            untaxed,
            order_id,
            partner_id,
            *_order_and_address,
            own_rate,
            category_rate,
        ) in rows:
            untaxed = money.round_minor(untaxed, digits)
            line_margin = max(untaxed - costs[line_id], 0) if margin_needed else 0
            base = line_margin if config["contribution_base"] == "margin" else untaxed
            rate = own_rate if own_rate is not None else category_rate
            rate = default_rate if rate is None else Fraction(rate) / 100
            entry = amounts[move_id, order_id, partner_id]
            entry[0] += untaxed
            entry[1] += rate * base
            entry[2] += line_margin
            if product_id:
                entry[3][product_id] += money.fraction_of(quantity)
        return {
            key: (basis, floor(inflow + Fraction(1, 2)), margin_, dict(units))
            for key, (basis, inflow, margin_, units) in amounts.items()
            if basis > 0 and floor(inflow + Fraction(1, 2)) > 0
        }

    def _points_pool_order_bases(self, pool, margin=True):
        """The bases of this invoice per sale order (see :meth:`_points_pool_bases`).

        :return: ``{sale.order: (basis, inflow, margin, units)}``
        """
        self.ensure_one()
        config = pool._get_checkout_config(pool.company_id.id)
        return {
            self.env["sale.order"].browse(order_id): values
            for (_inv, order_id, _partner), values in self._points_pool_bases(
                config, margin=margin
            ).items()
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
