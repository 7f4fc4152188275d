import logging
from bisect import bisect_left
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

from ..core import money
from ..core.pool import LOT_OPEN, POINT_DIGITS, Lot, value_of
from ..tools.order_flow import sell

_logger = logging.getLogger(__name__)

# (partner xml id, order amount): eleven orders, then the exited member re-enters
DEMO_ORDERS = [
    ("res_partner_demo_zhang_wei", 1000.0),
    ("res_partner_demo_alice_chen", 1000.0),
    ("res_partner_demo_li_na", 1000.0),
    ("res_partner_demo_brian_miller", 500.0),
    ("res_partner_demo_wang_fang", 2000.0),
    ("res_partner_demo_chloe_martin", 800.0),
    ("res_partner_demo_zhang_wei", 1500.0),
    ("res_partner_demo_alice_chen", 600.0),
    ("res_partner_demo_li_na", 1200.0),
    ("res_partner_demo_brian_miller", 900.0),
    ("res_partner_demo_chloe_martin", 2500.0),
]
DEMO_REENTRY = ("res_partner_demo_zhang_wei", 1000.0)
DEMO_SELLER = ("res_partner_demo_alice_chen", 50.0)

# the referral tree: (member, referrer, how); a store owned by Zhang Wei binds Brian
DEMO_BINDINGS = [
    ("res_partner_demo_zhang_wei", "res_partner_demo_alice_chen", "link"),
    ("res_partner_demo_li_na", "res_partner_demo_zhang_wei", "signup"),
    ("res_partner_demo_wang_fang", "res_partner_demo_zhang_wei", "order"),
    ("res_partner_demo_brian_miller", "res_partner_demo_store_shanghai", "store"),
    ("base.partner_demo_portal", "res_partner_demo_li_na", "signup"),
]
# the demo portal user (login portal / portal) buys once, after the pool history
DEMO_PORTAL_ORDER = ("base.partner_demo_portal", 1000.0)

# the demo's history is spread over the last DEMO_DAYS days (charts need a shape)
DEMO_DAYS = 90

# the seeds' parameters; no return window so each paid order mints at once
DEMO_POOL_VALS = {
    "contribution_rate": 30.0,
    "contribution_base": "untaxed",
    "points_ratio": 70.0,
    "retention": 20.0,
    "exit_multiple": 3.0,
    "cash_share": 100.0,
    "vesting_rate": 0.0,
    "return_window_days": 0,
}


class PointsPool(models.Model):
    # the demo loader stays apart from the product code on purpose
    _inherit = "points.pool"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _load_demo_data(self):
        """Fill the main company's pool with a small, consistent history.

        Real documents all the way: sale orders confirmed, invoiced and paid
        through ``account.payment.register``, settled by :meth:`_settle_due`;
        then a sale of points, an injection that forces the oldest lot out,
        the exited member's re-entry and two withdrawals (one approved, one
        left for the manager).  Does nothing if the pool already has ledger
        lines (module update) or if the company has no chart of accounts.
        """
        company = self.env.ref("base.main_company")
        if not company.chart_template:
            _logger.info(
                "points_pool demo: %s has no chart of accounts, skipped", company.name
            )
            return False
        pool = self.sudo()._get_company_pool(company)
        if (
            self.env["points.pool.move"]
            .sudo()
            .search_count([("pool_id", "=", pool.id)], limit=1)
        ):
            _logger.info(
                "points_pool demo: the pool of %s has ledger lines, skipped",
                company.name,
            )
            return False
        pool = pool.with_env(self.env(su=True)).with_company(company)
        env = pool.env
        pool.write({**DEMO_POOL_VALS, "active": True})
        product = env.ref("points_pool.product_product_demo_package")

        def partner(xml_id):
            return env.ref(xml_id if "." in xml_id else f"points_pool.{xml_id}")

        pool._demo_bind(partner)
        pool._demo_commissions(partner)
        # the last ledger line id after each step of the story: the steps are
        # dated apart afterwards (_demo_spread_dates)
        marks = []

        def mark():
            marks.append(pool._demo_last_line_id())

        for xml_id, amount in DEMO_ORDERS:
            pool._demo_buy(partner(xml_id), product, amount)
            mark()

        # a member sells some free points into the wallet
        seller = pool._demo_member(partner(DEMO_SELLER[0]))
        seller.action_sell(DEMO_SELLER[1])
        mark()

        # platform money up to the lowest exit trigger: the oldest lot exits
        pool.action_inject(pool._demo_injection_to_first_exit())
        mark()

        # the exited member comes back: a new order opens a new lot
        pool._demo_buy(partner(DEMO_REENTRY[0]), product, DEMO_REENTRY[1])
        mark()

        # withdrawals: the exited member's is approved, the seller's waits
        Withdrawal = env["points.withdrawal"]
        exited = pool._demo_member(partner(DEMO_REENTRY[0]))
        approved = Withdrawal.create(
            {
                "member_id": exited.id,
                "amount": pool._demo_round_down(exited.wallet_balance / 2),
            }
        )
        approved.action_approve()
        mark()
        Withdrawal.create(
            {
                "member_id": seller.id,
                "amount": pool._demo_round_down(seller.wallet_balance),
            }
        )
        pool._demo_buy(partner(DEMO_PORTAL_ORDER[0]), product, DEMO_PORTAL_ORDER[1])
        mark()
        env["points.referral.node"]._cron_update_ranks()
        # an order sold by the store and picked up at the service point
        pool._demo_buy(
            partner("res_partner_demo_brian_miller"),
            product,
            1000.0,
            store=partner("res_partner_demo_store_shanghai"),
            service_point=env["points.service.point"].search(
                [("company_id", "=", company.id)], limit=1
            ),
        )
        mark()
        # a director (given by a manager) shares the dividend pool
        pool._demo_member(
            partner("res_partner_demo_alice_chen")
        ).referral_node_id._set_rank(
            env.ref("points_pool.points_rank_demo_director"), "manager"
        )
        # commissions: the hold period is over for the demo, then a distribution
        pool._commission_jobs(now=fields.Datetime.now() + timedelta(days=30))
        env.ref("points_pool.points_dividend_pool_demo")._distribute()
        mark()
        pool._demo_spread_dates(marks)
        problems = pool._check_rows(only_problems=True)
        if problems:
            _logger.warning(
                "points_pool demo: the pool does not reconcile: %s", problems
            )
        _logger.info(
            "points_pool demo: %s members, fund %s, supply %s, price %.4f",
            pool.member_count,
            pool.fund,
            pool.supply,
            pool.price,
        )
        return True

    # ------------------------------------------------------------------
    # helpers of the demo loader
    # ------------------------------------------------------------------
    def _demo_buy(self, partner, product, amount, store=None, service_point=None):
        """Sell one order (:func:`~..tools.order_flow.sell`: confirmed, picked
        up at ``service_point`` if given, invoiced, paid) and settle it."""
        self.ensure_one()
        order, _invoice = sell(
            self.env,
            partner,
            [(product, amount)],
            company=self.company_id,
            pickup=bool(service_point),
            points_store_id=store.id if store else False,
            points_service_point_id=service_point.id if service_point else False,
        )
        self._settle_due()
        return order

    def _demo_bind(self, partner):
        """Enrol the demo partners and bind them as :data:`DEMO_BINDINGS` says."""
        self.ensure_one()
        Node = self.env["points.referral.node"]
        partners = self.env["res.partner"].union(
            *[partner(xml_id) for xml_id, _ref, _how in DEMO_BINDINGS],
            *[partner(ref) for _xml_id, ref, how in DEMO_BINDINGS if how != "store"],
        )
        self.env["points.member"]._get_or_create(self, partners)
        for xml_id, ref, how in DEMO_BINDINGS:
            referrer = partner(ref)
            code = (
                referrer.points_store_code
                if how == "store"
                else self._demo_member(referrer).referral_code
            )
            Node._bind_partner_by_code(partner(xml_id), code, how, self.company_id)

    def _demo_commissions(self, partner):
        """Agents, a service point and two plans: the default two-level plan
        (active) and the seeds' 1000-package split (draft, depth 3 acknowledged)."""
        self.ensure_one()
        env = self.env
        member = self._demo_member
        env.ref("points_pool.points_region_demo_shanghai").agent_id = member(
            partner("res_partner_demo_wang_fang")
        )
        env.ref("points_pool.points_region_demo_huangpu").agent_id = member(
            partner("res_partner_demo_li_na")
        )
        env["points.service.point"].create(
            {
                "name": "人民广场服务点 (People's Square pickup)",
                "company_id": self.company_id.id,
                "member_id": member(partner("res_partner_demo_li_na")).id,
                "region_id": env.ref("points_pool.points_region_demo_huangpu").id,
            }
        )
        store = partner("res_partner_demo_store_shanghai")
        store.points_store_recruiter_id = member(partner("res_partner_demo_alice_chen"))
        dividend = env.ref("points_pool.points_dividend_pool_demo")
        Plan = env["points.commission.plan"].with_company(self.company_id)
        plan = Plan.create(
            {
                "name": "二级分销 (Two-level plan)",
                "company_id": self.company_id.id,
                "rule_ids": [
                    Command.create({"name": "直推", "kind": "direct", "rate": 5.0}),
                    Command.create({"name": "间推", "kind": "indirect", "rate": 2.0}),
                    Command.create(
                        {
                            "name": "区域",
                            "kind": "regional",
                            "value_type": "fixed",
                            "tier_ids": [
                                Command.create(
                                    {"region_level": "district", "amount": 3}
                                ),
                                Command.create(
                                    {"region_level": "province", "amount": 8}
                                ),
                            ],
                        }
                    ),
                    Command.create({"name": "招商", "kind": "merchant", "rate": 0.5}),
                    Command.create(
                        {
                            "name": "分红池",
                            "kind": "dividend",
                            "rate": 4.0,
                            "dividend_pool_id": dividend.id,
                        }
                    ),
                ],
            }
        )
        plan._activate()
        seeds = Plan.create(
            {"name": "种子方案 (Seeds' 1000 package)", "company_id": self.company_id.id}
        )
        seeds._acknowledge_depth()
        ranks = {
            level: env.ref(f"points_pool.points_rank_demo_{name}")
            for level, name in ((2, "partner"), (3, "cofounder"), (4, "director"))
        }
        seeds.write(
            {
                "rule_ids": [
                    Command.create({"name": "直推", "kind": "direct", "rate": 10.0}),
                    Command.create(
                        {
                            "name": "级差",
                            "kind": "rank_differential",
                            "value_type": "fixed",
                            "levels": 3,
                            "tier_ids": [
                                Command.create(
                                    {"rank_id": ranks[level].id, "amount": amount}
                                )
                                for level, amount in ((2, 10), (3, 20), (4, 30))
                            ],
                        }
                    ),
                    Command.create(
                        {"name": "平级", "kind": "peer", "rate": 10.0, "levels": 2}
                    ),
                    Command.create(
                        {
                            "name": "服务点",
                            "kind": "service_point",
                            "value_type": "fixed",
                            "amount": 20,
                        }
                    ),
                ]
            }
        )
        return plan

    def _demo_last_line_id(self):
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT COALESCE(MAX(id), 0) FROM points_pool_move WHERE pool_id = %s",
            [self.id],
        )
        return self.env.cr.fetchone()[0]

    def _demo_spread_dates(self, marks, days=DEMO_DAYS):
        """Date the demo's story over the last ``days`` days, in SQL (the
        ledger is immutable): step ``k`` of the story (its ledger lines have
        ids up to ``marks[k]``) is dated ``k / (steps - 1)`` of the way from
        ``days`` ago to now, its lines a second apart in ledger order; dates
        never go backwards along the ledger numbers.  The lots (paid, settled,
        picked up), their orders, their invoices' dates and their commission
        lines move with their first ledger line; journal entries keep their
        accounting dates (sequences, lock dates).  Amounts are not touched, so
        the reconciliation is unchanged.
        """
        self.ensure_one()
        steps = sorted(set(marks))
        if len(steps) < 2:
            return False
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            "SELECT id, number, date FROM points_pool_move WHERE pool_id = %s "
            "ORDER BY number = 0, number, id",
            [self.id],
        )
        lines = cr.fetchall()
        # a step's lines are a second apart: the last step ends before now,
        # so that lines booked after the demo (e.g. the POS demo) come later;
        # whole seconds, so no rounding puts a line after a later one
        end = fields.Datetime.now().replace(microsecond=0) - timedelta(
            seconds=len(lines) + 1
        )
        start = end - timedelta(days=days)
        gap = timedelta(seconds=int((end - start).total_seconds()) // (len(steps) - 1))
        step_dates = [start + gap * index for index in range(len(steps))]
        new_dates, deltas = [], {}
        counts = [0] * len(steps)  # lines dated so far in each step
        last_step = 0  # of the numbered lines: never back along the numbers
        for line_id, number, old in lines:
            step = min(bisect_left(steps, line_id), len(steps) - 1)
            if number:
                step = last_step = max(step, last_step)
            date = step_dates[step] + timedelta(seconds=counts[step])
            counts[step] += 1
            new_dates.append((line_id, date))
            deltas[line_id] = date - old
        cr.execute(
            SQL(
                "UPDATE points_pool_move m SET date = v.date FROM (VALUES %s) "
                "AS v(id, date) WHERE m.id = v.id",
                SQL(", ").join(
                    SQL("(%s, %s::timestamp)", line_id, date)
                    for line_id, date in new_dates
                ),
            )
        )
        # a lot moves with its first ledger line (its pending inflow)
        cr.execute(
            "SELECT lot_id, MIN(id) FROM points_pool_move "
            "WHERE pool_id = %s AND lot_id IS NOT NULL GROUP BY lot_id",
            [self.id],
        )
        lots = SQL(", ").join(
            SQL("(%s, %s::interval)", lot_id, deltas[line_id])
            for lot_id, line_id in cr.fetchall()
        )
        if lots.code:
            for query in (
                "UPDATE points_lot l SET date_paid = l.date_paid + v.delta, "
                "settle_date = l.settle_date + v.delta, "
                "pickup_date = l.pickup_date + v.delta "
                "FROM (VALUES %s) AS v(id, delta) WHERE l.id = v.id",
                "UPDATE sale_order s SET date_order = s.date_order + v.delta "
                "FROM points_lot l JOIN (VALUES %s) AS v(id, delta) ON v.id = l.id "
                "WHERE s.id = l.sale_order_id",
                "UPDATE points_commission_line c SET date = c.date + v.delta, "
                "date_due = c.date_due + v.delta "
                "FROM (VALUES %s) AS v(id, delta) WHERE c.lot_id = v.id",
            ):
                cr.execute(SQL(query, lots))
            # invoices: the document date and the due dates, not the
            # accounting date (the journal entries stay where they were booked)
            cr.execute(
                """
                WITH shift AS (
                    SELECT DISTINCT ON (l.invoice_id) l.invoice_id AS id,
                           l.date_paid::date - a.invoice_date AS days
                      FROM points_lot l
                      JOIN account_move a ON a.id = l.invoice_id
                     WHERE l.pool_id = %s AND a.invoice_date IS NOT NULL
                     ORDER BY l.invoice_id, l.id
                ), moves AS (
                    UPDATE account_move a
                       SET invoice_date = a.invoice_date + s.days,
                           invoice_date_due = a.invoice_date_due + s.days
                      FROM shift s
                     WHERE a.id = s.id
                )
                UPDATE account_move_line ml
                   SET invoice_date = ml.invoice_date + s.days,
                       date_maturity = ml.date_maturity + s.days
                  FROM shift s
                 WHERE ml.move_id = s.id
                """,
                [self.id],
            )
        self.env.invalidate_all()
        return True

    def _demo_member(self, partner):
        self.ensure_one()
        return self.env["points.member"].search(
            [("pool_id", "=", self.id), ("partner_id", "=", partner.id)], limit=1
        )

    def _demo_round_down(self, amount):
        """Whole currency units, for round demo amounts."""
        return float(int(amount))

    def _demo_injection_to_first_exit(self):
        """Smallest whole amount that lifts the price to the lowest exit trigger.

        ``p = P / S >= t = (C - R) / u`` (``Lot.trigger``) for the open lot with
        the lowest trigger: ``value_of(S, t) - P``, rounded up to a whole unit.
        """
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT cap::text, realized::text, held::text FROM points_lot "
            "WHERE pool_id = %s AND state = 'open' AND held > 0 "
            "ORDER BY trigger_price, id LIMIT 1",
            [self.id],
        )
        cap, realized, held = self.env.cr.fetchone()
        params = self._get_params()
        digits = params.digits
        lot = Lot(
            0,
            None,
            0,
            0,
            money.to_minor(cap, digits),
            held=money.to_minor(held, POINT_DIGITS),
            realized=money.to_minor(realized, digits),
            state=LOT_OPEN,
        )
        supply = money.round_minor(self.supply, POINT_DIGITS)
        needed = value_of(supply, lot.trigger(params), params) - money.round_minor(
            self.fund, digits
        )
        return float(-(-needed // params.scale))
