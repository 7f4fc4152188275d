import logging
from collections import defaultdict

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tools import SQL

from ..core import credit as credit_core
from ..core import money
from ..core import order as order_core
from ..core.pool import refund_share
from .points_pool import rate_share

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
        """Book the paid sale invoices through the pool's order-source seam
        (``points.pool._book_orders``): one pending lot and ledger line per
        (paid invoice, sale order), exactly once.

        Runs when an invoice becomes paid: the checkout path, set-based
        whatever the number of invoices (the order bases in one query).
        :return: the lots created
        """
        Pool = self.env["points.pool"].sudo()
        orders = []
        for company in self.company_id:
            company_invoices = self.filtered(
                lambda move, c=company: move.company_id == c
            )
            config = Pool._get_checkout_config(company.id)
            if config is None:  # first use: create the company's pool
                Pool._get_company_pool(company)
                config = Pool._get_checkout_config(company.id)
            if not config["active"]:
                continue
            margin = self.env["points.commission.plan"]._uses_margin(company.id)
            orders += company_invoices._points_pool_order_inputs(config, margin=margin)
        return Pool._book_orders(orders)

    @api.model
    def _points_pool_sale_lines_sql(self):
        """A condition on the invoice lines ``l`` the sale source books (another
        source may claim some: the till books what it invoices itself)."""
        return SQL("TRUE")

    def _points_pool_order_inputs(self, config, margin=False):
        """The paid orders of these invoices as the pool's plain input: one
        ``OrderInput`` per (invoice, sale order), from one query.

        Basis: untaxed amount in company currency.  Inflow: Σ rate x base, the
        rate of the product, else of its category (nearest first), else of the
        pool, rounded half up per order.  The margin (which reads product
        costs) is computed only when the pool or a commission rule needs it.
        """
        if not self:
            return []
        digits = config["digits"]
        margin_needed = margin or config["contribution_base"] == "margin"
        default_rate = money.percent(config["contribution_rate"])
        # the query reads these: what the ORM holds must be written first
        for model, names in (
            ("account.move", ["name"]),
            ("account.move.line", ["move_id", "product_id", "quantity", "balance"]),
            ("sale.order.line", ["order_id", "invoice_lines"]),
            (
                "sale.order",
                [
                    "name",
                    "partner_id",
                    "partner_shipping_id",
                    "points_store_id",
                    "points_service_point_id",
                    "points_pickup_date",
                ],
            ),
            ("res.partner", ["commercial_partner_id", "state_id", "city", "zip"]),
            (
                "points.pool.move",
                ["kind", "credit", "wallet", "res_model", "res_id"],
            ),
        ):
            self.env[model].flush_model(names)
        Pool = self.env["points.pool"]
        Pool._flush_rate_fields()
        self.env.cr.execute(
            SQL(
                """
                SELECT l.move_id, l.id, l.product_id, l.quantity::text, (-l.balance)::text,
                       o.id, rp.commercial_partner_id, o.partner_shipping_id,
                       o.points_store_id, o.points_service_point_id, o.points_pickup_date,
                       o.name, ship.state_id, ship.city, ship.zip, rate.own, rate.category,
                       m.amount_total_signed::text,
                       (SELECT -SUM(COALESCE(pm.credit, 0) + COALESCE(pm.wallet, 0))
                          FROM points_pool_move pm
                         WHERE pm.kind IN ('spend', 'spend_refund')
                           AND pm.res_model = 'account.move'
                           AND pm.res_id = l.move_id)::text
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN LATERAL (SELECT sl.order_id FROM sale_order_line_invoice_rel r
                                  JOIN sale_order_line sl ON sl.id = r.order_line_id
                                 WHERE r.invoice_line_id = l.id
                                 ORDER BY sl.order_id LIMIT 1) AS rel ON TRUE
                  JOIN sale_order o ON o.id = rel.order_id
                  JOIN res_partner rp ON rp.id = o.partner_id
                  LEFT JOIN res_partner ship ON ship.id = o.partner_shipping_id
                  LEFT JOIN LATERAL (%s) AS rate(product_id, own, category) ON TRUE
                 WHERE l.move_id = ANY(%s) AND l.display_type = 'product' AND %s
                 ORDER BY l.move_id, l.id
                """,
                Pool._product_rates_sql(SQL("l.product_id")),
                self.ids,
                self._points_pool_sale_lines_sql(),
            )
        )
        rows = self.env.cr.fetchall()
        # what the commission accrual reads of the delivery addresses (regions)
        addresses = {row[7]: row[12:15] for row in rows if row[7]}
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
                line.id: money.product_minor(
                    line.product_id.standard_price, line.quantity, digits
                )
                for line in lines
            }
        groups = defaultdict(list)
        heads = {}
        paid_shares = {}
        for row in rows:
            (move_id, line_id, product_id, quantity, untaxed, order_id, partner_id) = (
                row[:7]
            )
            own_rate, category_rate = row[15:17]
            groups[move_id, order_id, partner_id].append(
                order_core.OrderLine(
                    product_id=product_id,
                    quantity=money.fraction_of(quantity),
                    untaxed=money.round_minor(untaxed, digits),
                    cost=costs.get(line_id) if margin_needed else None,
                    rate=rate_share(own_rate, category_rate),
                )
            )
            heads[move_id, order_id, partner_id] = row[7:12]
            if row[18] and config.get("credit_earns", "cash") != "all":
                # paid partly with credit or wallet money: the rest earns
                paid_shares[move_id] = credit_core.cash_share(
                    money.round_minor(row[17], digits),
                    money.round_minor(row[18], digits),
                )
        company_id = config["company_id"]
        inputs = []
        for (move_id, order_id, partner_id), lines in groups.items():
            basis, inflow, margin_, units = order_core.order_amounts(
                lines,
                default_rate,
                config["contribution_base"],
                paid_shares.get(move_id, 1),
            )
            shipping_id, store_id, point_id, pickup, name = heads[
                move_id, order_id, partner_id
            ]
            inputs.append(
                order_core.OrderInput(
                    key=f"account.move:{move_id}/sale.order:{order_id}",
                    origin=f"account.move:{move_id}",
                    company_id=company_id,
                    partner_id=partner_id,
                    basis=basis,
                    inflow=inflow,
                    margin=margin_,
                    units=units,
                    store_id=store_id,
                    service_point_id=point_id,
                    pickup_date=pickup,
                    address_id=shipping_id,
                    res_model="sale.order",
                    res_id=order_id,
                    ref=name,
                    links={"sale_order_id": order_id, "invoice_id": move_id},
                )
            )
        return inputs

    # ------------------------------------------------------------------
    # credit notes: refunds before and after settlement, exactly once
    # ------------------------------------------------------------------
    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        refunds = posted.filtered(
            lambda move: move.move_type == "out_refund" and move.reversed_entry_id
        )._points_pool_refund_queued()
        if refunds:
            refunds._points_pool_queue_refund()
        return posted

    def _points_pool_refund_queued(self):
        """Of these posted credit notes, those the pool must process."""
        return self.filtered(lambda move: move.reversed_entry_id.points_lot_ids)

    def _points_pool_queue_refund(self):
        """Queue the refund of points of these posted credit notes.

        The accountant's transaction never takes the pool lock (it would
        conflict with every pool event that commits meanwhile): it only marks
        the credit notes; the refund is applied as a pool event of its own
        right after the commit, exactly once (``refund:<credit note>:<lot>``).
        """
        self.write({"points_refund_pending": True})
        pools = (
            self.env["points.pool"]
            .sudo()
            .search([("company_id", "in", self.company_id.ids)])
        )
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
        Pool = self.env["points.pool"].sudo()
        for refund in self:
            invoice = refund.reversed_entry_id
            if refund.points_refund_pending:
                refund.sudo().write({"points_refund_pending": False})
            if not invoice.amount_untaxed_signed or refund.state != "posted":
                continue
            fraction = refund_share(
                money.fraction_of(abs(refund.amount_untaxed_signed)),
                money.fraction_of(abs(invoice.amount_untaxed_signed)),
            )
            lots = Pool._refund_orders(
                f"account.move:{invoice.id}", fraction, str(refund.id), source=refund
            )
            if lots:
                refund.message_post(
                    body=_(
                        "Points pool: %(share)s%% of the order's points refunded.",
                        share=round(float(fraction) * 100, 2),
                    )
                )
