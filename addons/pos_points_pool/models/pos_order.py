import logging
from fractions import Fraction

from odoo import SUPERUSER_ID, api, fields, models
from odoo.modules.registry import Registry

from odoo.addons.points_pool.core import credit as credit_core
from odoo.addons.points_pool.core import money
from odoo.addons.points_pool.core import order as order_core
from odoo.addons.points_pool.core.pool import LOT_CANCELLED, refund_share

_logger = logging.getLogger(__name__)


class PosOrder(models.Model):
    _inherit = "pos.order"

    points_lot_ids = fields.One2many("points.lot", "pos_order_id", string="Points lots")
    points_commission_line_ids = fields.One2many(
        "points.commission.line", "pos_order_id", string="Commissions"
    )
    points_minted = fields.Float(
        "Points earned", digits="Points", compute="_compute_points_minted"
    )
    points_refund_pending = fields.Boolean(
        "Points refund queued",
        copy=False,
        readonly=True,
        help="This refund's reversal of points waits to be applied to the pool "
        "(right after the sync; the settlement job catches up otherwise).",
    )

    def init(self):
        res = super().init()
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS pos_order_points_refund_pending_idx "
            "ON pos_order (company_id, id) WHERE points_refund_pending"
        )
        return res

    #: what the till never needs to receive back (``sync_from_ui`` reads the
    #: order's POS fields: these would cost queries on every sync)
    _POINTS_POOL_BACKEND_FIELDS = (
        "points_lot_ids",
        "points_commission_line_ids",
        "points_minted",
        "points_refund_pending",
    )

    def _load_pos_data_fields(self, config_id):
        fields_ = super()._load_pos_data_fields(config_id)
        if not fields_:  # all of them the user may read, as ``read([])`` does
            fields_ = self.check_field_access_rights("read", None)
        return [
            name for name in fields_ if name not in self._POINTS_POOL_BACKEND_FIELDS
        ]

    def _compute_points_minted(self):
        minted = dict(
            self.env["points.lot"]
            .sudo()
            ._read_group(
                [("pos_order_id", "in", self.ids)], ["pos_order_id"], ["minted:sum"]
            )
        )
        for order in self:
            order.points_minted = minted.get(order, 0.0)

    # ------------------------------------------------------------------
    # the till's path: insert only, no pool lock
    # ------------------------------------------------------------------
    def action_pos_order_paid(self):
        """Every payment path of the POS reaches this step: the order books its
        pending inflow here, once per uuid (``pos.order:<uuid>``), or queues
        its refund when it refunds an order."""
        res = super().action_pos_order_paid()
        if not self.env.context.get("points_credit_booked"):
            # the customer's repurchase credit spent or given back (the
            # back-office payment wizard; the sync books it just before)
            self._points_credit_book()
        refunds = self.filtered(lambda order: order.lines.refunded_orderline_id)
        if refunds:
            refunds._points_pool_queue_refund()
        # what is sold (an exchange sells new lines on the refund order too)
        self._points_pool_book("now")
        return res

    def _process_saved_order(self, draft):
        """The sync: book the points credit before the paid step, whose errors
        Odoo only logs (the order would be saved as paid).  Refused, the whole
        sync of the order fails and nothing is booked."""
        if draft:
            return super()._process_saved_order(draft)
        self._points_credit_book()
        return super(
            PosOrder, self.with_context(points_credit_booked=True)
        )._process_saved_order(draft)

    def _points_pool_book(self, part):
        """Book these orders through the pool's seam.

        :param part: ``"now"``: what was paid at the till (a "customer account"
            payment earns nothing yet); ``"later"``: the customer-account share,
            once the order's invoice is paid
        :return: the lots created
        """
        inputs = []
        Pool = self.env["points.pool"].sudo()
        for company in self.company_id:
            orders = self.filtered(
                lambda o, c=company: o.company_id == c and o.partner_id
            )
            if not orders:
                continue
            config = Pool._get_checkout_config(company.id)
            if config is None:
                Pool._get_company_pool(company)
                config = Pool._get_checkout_config(company.id)
            if not config["active"]:
                continue
            margin = self.env["points.commission.plan"]._uses_margin(company.id)
            inputs += orders._points_pool_order_inputs(config, part, margin=margin)
        if not inputs:
            return self.env["points.lot"]
        return Pool._book_orders(inputs)

    def _points_pool_paid_share(self, part, config=None):
        """Share of the order paid ``"now"`` (at the till) or ``"later"``
        (customer account), from the order's own payments: exact.

        What is paid with points credit is no debt of the customer: it earns
        nothing when the pool's ``credit_earns`` is ``"cash"`` (the default:
        the credit came out of the pool), it earns now with ``"all"``.
        """
        self.ensure_one()
        digits = self.currency_id.decimal_places
        total = sum(money.round_minor(p.amount, digits) for p in self.payment_ids)
        # "customer account": a method without journal (what its ``type``
        # computes, without reading the journals: the till's path)
        later = credit = 0
        for payment in self.payment_ids:
            method = payment.payment_method_id
            if method.points_credit:
                credit += money.round_minor(payment.amount, digits)
            elif not method.journal_id:
                later += money.round_minor(payment.amount, digits)
        if (config or {}).get("credit_earns", "cash") == "all":
            credit = 0
        return credit_core.paid_share(total, later, credit, part)

    def _points_pool_lines(self, config, margin_needed, rates=None):
        """The order's lines as the pool's plain input, company currency."""
        self.ensure_one()
        digits = config["digits"]
        rate = (
            money.fraction_of(self.currency_rate)
            if self.currency_id != self.company_id.currency_id and self.currency_rate
            else Fraction(1)
        )
        rates = rates if rates is not None else {}
        lines = []
        for line in self.lines.filtered(lambda line: not line.refunded_orderline_id):
            # company currency, rounded half up to its minor unit
            untaxed = money.convert_minor(line.price_subtotal, rate, digits)
            cost = None
            if margin_needed:
                cost = money.round_minor(line.total_cost or 0.0, digits)
            lines.append(
                order_core.OrderLine(
                    product_id=line.product_id.id or None,
                    quantity=money.fraction_of(line.qty),
                    untaxed=untaxed,
                    cost=cost,
                    rate=rates.get(line.product_id.id),
                )
            )
        return lines

    def _points_pool_order_inputs(self, config, part, margin=False):
        margin_needed = margin or config["contribution_base"] == "margin"
        default_rate = money.percent(config["contribution_rate"])
        rates = (
            self.env["points.pool"]
            .sudo()
            ._product_rates(sorted(set(self.lines.product_id.ids)))
        )
        inputs = []
        for order in self:
            share = order._points_pool_paid_share(part, config)
            if share <= 0:
                continue
            basis, inflow, margin_, units = order_core.order_amounts(
                order._points_pool_lines(config, margin_needed, rates),
                default_rate,
                config["contribution_base"],
                share=share,
            )
            store = order.config_id.points_store_id
            inputs.append(
                order_core.OrderInput(
                    key=f"pos.order:{order.uuid}"
                    + ("/later" if part == "later" else ""),
                    origin=f"pos.order:{order.uuid}",
                    company_id=order.company_id.id,
                    partner_id=order.partner_id.commercial_partner_id.id,
                    basis=basis,
                    inflow=inflow,
                    margin=margin_,
                    units=units,
                    store_id=store.id or None,
                    bind_store=bool(store),
                    res_model="pos.order",
                    res_id=order.id,
                    ref=order.name,
                    links={"pos_order_id": order.id},
                )
            )
        return inputs

    # ------------------------------------------------------------------
    # refunds: queued at the till, applied as a pool event of their own
    # ------------------------------------------------------------------
    def _points_pool_queue_refund(self):
        """Mark these refund orders; their reversal is applied right after the
        commit, exactly once (``refund:pos:<uuid>:<lot>``), or by the settlement
        job should that not run.  The till never takes the pool lock."""
        self.write({"points_refund_pending": True})
        dbname = self.env.cr.dbname
        company_ids = tuple(self.company_id.ids)

        def apply_after_commit():
            try:
                with Registry(dbname).cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    pools = env["points.pool"].search(
                        [("company_id", "in", company_ids)]
                    )
                    env["points.pool"]._process_refund_queue_apart(tuple(pools.ids))
            except Exception:  # the settlement job applies it later
                _logger.exception(
                    "points pool: POS refund queue of %s postponed", dbname
                )

        self.env.cr.postcommit.add(apply_after_commit)

    def _points_pool_refund(self):
        """Reverse the points and commissions of the refunded orders pro rata:
        the refund's untaxed amount over the original order's (a share of the
        *original* order, so refunds that add up to it leave nothing)."""
        Pool = self.env["points.pool"].sudo()
        done = self.env["pos.order"]
        for refund in self:
            if refund.points_refund_pending:
                refund.sudo().write({"points_refund_pending": False})
            for original in refund.lines.refunded_orderline_id.order_id:
                lines = refund.lines.filtered(
                    lambda line, o=original: line.refunded_orderline_id.order_id == o
                )
                refunded = abs(
                    sum(money.fraction_of(line.price_subtotal) for line in lines)
                )
                whole = money.fraction_of(original.amount_total) - money.fraction_of(
                    original.amount_tax
                )
                if whole <= 0 or refunded <= 0:
                    continue
                lots = Pool._refund_orders(
                    f"pos.order:{original.uuid}",
                    refund_share(refunded, whole),
                    f"pos:{refund.uuid}",
                    source=refund,
                )
                if lots:
                    done |= refund
        return done

    # ------------------------------------------------------------------
    # what the till shows (RPC, not on the sync path)
    # ------------------------------------------------------------------
    @api.model
    def points_pool_receipt(self, uuids):
        """What the receipt prints of these orders' points, per uuid."""
        self.env["res.partner"]._points_pool_check_pos_user()
        orders = self.search([("uuid", "in", list(uuids or []))])
        result = {}
        Lot = self.env["points.lot"].sudo()
        for order in orders:
            lots = Lot.search(
                [("pos_order_id", "=", order.id), ("state", "!=", LOT_CANCELLED)]
            )
            refund_of = order.lines.refunded_orderline_id.order_id
            if not lots and not refund_of:
                continue
            pool = lots.pool_id[:1] or self.env["points.pool"].sudo().search(
                [("company_id", "=", order.company_id.id)], limit=1
            )
            if not pool:
                continue
            member = lots.member_id[:1] or self.env["points.member"].sudo()._find(
                pool, order.partner_id.commercial_partner_id
            )
            result[order.uuid] = pool._pos_receipt_values(order, lots, member)
        return result
