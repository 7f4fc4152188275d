"""The order-source seam (README "Order sources"): every source of orders -
sale invoices, POS orders - books and refunds points through these methods;
the checkout path reads one cached configuration and writes one insert, and
never takes the pool row (SPEC 2)."""

import json
from collections import defaultdict
from datetime import timedelta
from fractions import Fraction

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..core import money
from ..core import order as order_core
from ..core.pool import LOT_CANCELLED, floor
from .points_pool import rate_share


class PointsPool(models.Model):
    _inherit = "points.pool"

    # ------------------------------------------------------------------
    # the checkout path: cached configuration, one insert
    # ------------------------------------------------------------------
    #: the parameters the checkout path reads (cached; see _get_checkout_config)
    _CHECKOUT_FIELDS = (
        "active",
        "contribution_rate",
        "contribution_base",
        "return_window_days",
        "exit_multiple",
        "company_id",
        "commission_hold_days",
        "credit_earns",
    )

    @api.model
    @tools.ormcache("company_id")
    def _get_checkout_config(self, company_id):
        """What paying an invoice needs of the company's pool, as plain data,
        cached per company (cleared when a pool's parameters change), so the
        checkout path reads nothing of the pool.

        :return: ``None`` when the company has no pool yet, else ``{"pool_id",
            "active", "contribution_rate", "contribution_base",
            "return_window_days", "exit_multiple", "digits"}`` (rates as exact
            decimal strings)
        """
        pool = (
            self.sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company_id)], limit=1)
        )
        if not pool:
            return None
        return {
            "pool_id": pool.id,
            "active": pool.active,
            "contribution_rate": str(money.fraction_of(pool.contribution_rate)),
            "contribution_base": pool.contribution_base,
            "return_window_days": pool.return_window_days,
            "exit_multiple": str(money.fraction_of(pool.exit_multiple)),
            "digits": pool.currency_id.decimal_places,
            "company_id": pool.company_id.id,
            **pool._get_checkout_extra(),
        }

    def _get_checkout_extra(self):
        """More of the pool's parameters the payment path needs (commissions)."""
        return {}

    # ------------------------------------------------------------------
    # the order-source seam: every source books and refunds through these
    # ------------------------------------------------------------------
    @api.model
    def _book_orders(self, orders):
        """Book paid orders: the one entry point of every order source.

        Each :class:`~..core.order.OrderInput` becomes a pending lot and its
        ledger line (number 0), and its commission accruals when a plan is
        active; a booking key that already has a live lot books nothing, so a
        replayed payment or an order synced twice gives one lot.  The checkout
        path: it never takes the pool row and is set-based — the pool's
        configuration from a cache, the members in one query (plus an insert
        for newcomers), lots and lines in one ``INSERT``, the settlement job
        triggered with one more when the return window is 0.

        :param orders: ``OrderInput`` list, any companies
        :return: the lots created
        """
        Pool = self.sudo()
        Lot = self.env["points.lot"].sudo()
        created = Lot
        by_company = defaultdict(list)
        for order in orders:
            if order.bookable:
                by_company[order.company_id].append(order)
        for company_id, company_orders in by_company.items():
            config = Pool._get_checkout_config(company_id)
            if config is None:  # first use: create the company's pool
                Pool._get_company_pool(self.env["res.company"].browse(company_id))
                config = Pool._get_checkout_config(company_id)
            if not config["active"]:
                continue
            pool = Pool.browse(config["pool_id"])
            # what the payment path reads of the pool, from the cached configuration
            self.env.cache.update(pool, Pool._fields["company_id"], [company_id])
            if "commission_hold_days" in config:
                self.env.cache.update(
                    pool,
                    Pool._fields["commission_hold_days"],
                    [config["commission_hold_days"]],
                )
            enrolled = set()
            members = self.env["points.member"]._get_or_create_ids(
                pool,
                sorted({order.partner_id for order in company_orders}),
                enrolled=enrolled,
            )
            if enrolled:
                self._bind_to_stores(company_id, company_orders, enrolled)
            lots = pool._insert_pending(
                [(order, members[order.partner_id]) for order in company_orders],
                config,
            )
            created |= lots
            if lots and self.env["points.commission.plan"]._get_active_plan_id(
                company_id
            ):
                # commissions accrue on the same trigger (inserted, journalized by the job)
                by_key = {order.key: order for order in company_orders}
                bases = {}
                for lot in lots:
                    order = by_key[lot.source_key]
                    bases[lot] = (order.basis, order.inflow, order.margin, order.units)
                self.env["points.commission.line"]._accrue_lots(lots, bases=bases)
            if lots and not config["return_window_days"]:
                pool._trigger_settlement()
        return created

    @api.model
    def _bind_to_stores(self, company_id, orders, enrolled):
        """A customer enrolled by an order at a store that binds (the till) is
        bound to the store's owner, as its QR would (SPEC 3)."""
        Node = self.env["points.referral.node"].sudo()
        company = self.env["res.company"].browse(company_id)
        Partner = self.env["res.partner"].sudo()
        for order in orders:
            if order.bind_store and order.store_id and order.partner_id in enrolled:
                store = Partner.browse(order.store_id)
                if store.points_store_code:
                    Node._bind_partner_by_code(
                        Partner.browse(order.partner_id),
                        store.points_store_code,
                        "store",
                        company=company,
                    )

    @api.model
    def _refund_orders(self, origin, fraction, key, source=None):
        """Refund ``fraction`` of the *original* order ``origin`` (what its
        source named in ``OrderInput.origin``): its lots, and its commissions.

        The other entry point of the seam.  A pool event under the pool lock,
        exactly once: ``refund:<key>:<lot>`` in the ledger, ``refund:<key>`` on
        the commission reversals; the core keeps the share refunded so far, so
        refunds that add up to the order leave nothing and never more.

        :param fraction: ``Fraction`` of the original order, ``0 < f <= 1``
        :param source: the refund document, for the ledger and the entry
        :return: the lots refunded now
        """
        Lot = self.env["points.lot"].sudo()
        Move = self.env["points.pool.move"].sudo()
        fraction = min(Fraction(1), Fraction(fraction))
        refunded = Lot
        if fraction <= 0:
            return refunded
        lots = Lot.search([("origin_key", "=", origin), ("state", "!=", LOT_CANCELLED)])
        for pool in lots.pool_id:
            keys = {
                lot: f"refund:{key}:{lot.id}" for lot in lots if lot.pool_id == pool
            }
            todo = []
            with pool._operation(source=source) as engine:
                # under the lock: a concurrent run may have applied it
                done = set(
                    Move.search(
                        [("idempotency_key", "in", list(keys.values()))]
                    ).mapped("idempotency_key")
                )
                firsts = []
                for lot, lot_key in keys.items():
                    core_lot = engine.store.get(lot.id)
                    if lot_key in done or core_lot.refunded >= 1:
                        continue
                    if core_lot.state == LOT_CANCELLED:
                        continue
                    firsts.append((len(engine.events), lot_key))
                    engine.refund(core_lot, fraction)
                    todo.append(lot.id)
                engine.idempotency = firsts
            if todo:
                # commissions: the same share, once per (refund, lot)
                self.env["points.commission.line"]._reverse_lots(
                    Lot.browse(todo), fraction, f"refund:{key}", source=source
                )
                refunded |= Lot.browse(todo)
        return refunded

    @api.model
    def _product_rates_sql(self, product_ids_sql):
        """``(product id, own rate, category rate)`` rows (rates as text, percent)
        for the products of ``product_ids_sql``: the one place the contribution
        rate of a product is looked up (the product's, else its nearest category's)."""
        return SQL(
            """
            SELECT p.id,
                   CASE WHEN t.points_pool_rate_set THEN t.points_pool_rate::text END,
                   (SELECT c2.points_pool_rate::text FROM product_category c2
                     WHERE c2.points_pool_rate_set
                       AND c2.id::text = ANY(string_to_array(rtrim(c.parent_path, '/'), '/'))
                     ORDER BY length(c2.parent_path) DESC LIMIT 1)
              FROM product_product p
              JOIN product_template t ON t.id = p.product_tmpl_id
              LEFT JOIN product_category c ON c.id = t.categ_id
             WHERE p.id IN (%s)
            """,
            product_ids_sql,
        )

    @api.model
    def _flush_rate_fields(self):
        for model, names in (
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

    @api.model
    def _product_rates(self, product_ids):
        """``{product id: rate as a share or None}`` (None: the pool's rate), one query."""
        if not product_ids:
            return {}
        self._flush_rate_fields()
        self.env.cr.execute(
            self._product_rates_sql(
                SQL(", ").join(SQL("%s", pid) for pid in product_ids)
            )
        )
        return {
            product_id: rate_share(own, category)
            for product_id, own, category in self.env.cr.fetchall()
        }

    def _estimate_points(self, inflow):
        """Points ``inflow`` (minor units) would mint at today's price (exact ratio)."""
        self.ensure_one()
        params = self._get_params()
        return order_core.estimate_points(
            inflow, self._get_state().price(params), params
        )

    def _insert_pending(self, rows, config):
        """Insert the pending lots and their ledger lines (number 0) in one
        statement; a booking key that already has a live lot is skipped.

        :param rows: ``[(OrderInput, member id)]``, amounts in minor units
        :return: the lots inserted
        """
        self.ensure_one()
        digits = config["digits"]
        multiple = Fraction(config["exit_multiple"])
        now = fields.Datetime.now()
        settle = now + timedelta(days=config["return_window_days"])
        Lot = self.env["points.lot"].sudo()
        links = sorted({name for order, _m in rows for name in order.links})
        source_links = Lot._get_source_links()
        unknown = set(links) - set(source_links)
        if unknown:
            raise ValueError(f"not a source link of points.lot: {sorted(unknown)}")
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s::varchar, %s::int, %s, %s::numeric, %s::numeric, %s::numeric, "
                "%s::numeric, %s::jsonb, %s::int, %s::int, %s::timestamp, %s::int, "
                "%s%s)",
                order.key,
                order.origin,
                order.ref or None,
                order.res_model,
                order.res_id,
                member_id,
                money.to_decimal(order.basis, digits),
                money.to_decimal(order.inflow, digits),
                money.to_decimal(floor(multiple * order.basis), digits),
                money.to_decimal(order.margin, digits),
                json.dumps({str(p): str(q) for p, q in sorted(order.units.items())}),
                order.store_id or None,
                order.service_point_id or None,
                order.pickup_date or None,
                order.address_id or None,
                order.partner_id,
                SQL("").join(
                    SQL(", %s::int", order.links.get(name) or None) for name in links
                ),
            )
            for order, member_id in rows
        )
        link_columns = SQL("").join(SQL(", %s", SQL.identifier(name)) for name in links)
        uid = self.env.uid
        self.env.cr.execute(
            SQL(
                """
                WITH v(source_key, origin_key, source_ref, res_model, res_id, member_id,
                       basis, inflow, cap, margin, units, store_id, service_point_id,
                       pickup_date, address_id, partner_id%(links)s)
                  AS (VALUES %(values)s),
                lot AS (
                    INSERT INTO points_lot (pool_id, company_id, member_id, partner_id,
                        source_key, origin_key, source_ref, margin, units, store_id,
                        service_point_id, pickup_date, address_id%(links)s, state,
                        date_paid, settle_date, basis, inflow, cap, create_uid,
                        create_date, write_uid, write_date)
                    SELECT %(pool)s, %(company)s, member_id, partner_id, source_key,
                           origin_key, source_ref, margin, units, store_id,
                           service_point_id, pickup_date, address_id%(links)s, 'pending',
                           %(now)s, %(settle)s, basis, inflow, cap, %(uid)s, %(now)s,
                           %(uid)s, %(now)s
                      FROM v ORDER BY source_key
                    ON CONFLICT (source_key) WHERE state != 'cancelled' DO NOTHING
                    RETURNING id, source_key, member_id, partner_id, basis, inflow, cap
                ),
                line AS (
                    INSERT INTO points_pool_move (pool_id, company_id, kind, number, date,
                        member_id, partner_id, lot_id, pending, price_before, price_after,
                        res_model, res_id, idempotency_key, create_uid, create_date,
                        write_uid, write_date)
                    SELECT %(pool)s, %(company)s, 'pending', 0, %(now)s, lot.member_id,
                           lot.partner_id, lot.id, lot.inflow, 0, 0, v.res_model, v.res_id,
                           'pending:' || lot.id, %(uid)s, %(now)s, %(uid)s, %(now)s
                      FROM lot JOIN v ON v.source_key = lot.source_key ORDER BY lot.id
                    RETURNING lot_id
                )
                SELECT lot.id, lot.source_key, lot.member_id, lot.partner_id,
                       lot.basis::text, lot.inflow::text, lot.cap::text
                  FROM lot JOIN line ON line.lot_id = lot.id ORDER BY lot.id
                """,
                values=values,
                links=link_columns,
                pool=self.id,
                company=config["company_id"],
                now=now,
                settle=settle,
                uid=uid,
            )
        )
        inserted = self.env.cr.fetchall()
        # the documents' and members' lists of lots and lines changed under the
        # ORM (first: invalidating them also drops their inverse on the lots)
        for name in source_links:
            comodel = self.env[Lot._fields[name].comodel_name]
            if "points_lot_ids" in comodel._fields:
                comodel.invalidate_model(["points_lot_ids"])
        self.env["points.member"].invalidate_model(["lot_ids", "ledger_ids"])
        lots = Lot.browse([row[0] for row in inserted])
        by_key = {order.key: order for order, _m in rows}
        orders = [by_key[row[1]] for row in inserted]
        n = len(inserted)
        # what was inserted, as the ORM's create would have cached it
        columns = {
            "pool_id": [self.id] * n,
            "company_id": [config["company_id"]] * n,
            "source_key": [row[1] for row in inserted],
            "origin_key": [order.origin for order in orders],
            "source_ref": [order.ref or None for order in orders],
            "margin": [money.to_float(order.margin, digits) for order in orders],
            "store_id": [order.store_id or None for order in orders],
            "service_point_id": [order.service_point_id or None for order in orders],
            "pickup_date": [order.pickup_date or None for order in orders],
            "address_id": [order.address_id or None for order in orders],
            **{
                name: [order.links.get(name) or None for order in orders]
                for name in source_links
            },
            "member_id": [row[2] for row in inserted],
            "partner_id": [row[3] for row in inserted],
            "state": ["pending"] * n,
            "date_paid": [now] * n,
            "settle_date": [settle] * n,
            "basis": [float(row[4]) for row in inserted],
            "inflow": [float(row[5]) for row in inserted],
            "cap": [float(row[6]) for row in inserted],
            # the columns left to their default
            **dict.fromkeys(
                ("minted", "held", "locked", "realized", "paid", "trigger_price"),
                [0.0] * n,
            ),
            "refunded_percent": [0.0] * n,
            "refunded_share": [None] * n,
            "create_uid": [uid] * n,
            "write_uid": [uid] * n,
            "create_date": [now] * n,
            "write_date": [now] * n,
        }
        for name, values in columns.items():
            self.env.cache.update(lots, Lot._fields[name], values)
        return lots
