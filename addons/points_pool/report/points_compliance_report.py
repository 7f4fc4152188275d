"""The compliance report of a company's pool (SPEC 6; issue 13).

Configuration (enabled mechanisms with their risk tags, SPEC 6 warnings, paid
depth, ``(1 - r) * m``) beside what the real ledger says, read with a few
set-based queries:

===========================  ==================================================
figure                       source
===========================  ==================================================
pool payouts                 ``points_pool_move`` ``sell`` and ``exit`` wallet
                             credits, less ``refund`` debts (wallet < 0)
commissions                  ``points_commission_line`` paid to members
                             (accrued and credited, reversals included; the
                             dividend pool's own accruals left out)
referral pay                 the commissions of
                             :func:`..core.compliance.referral_kinds`
spend                        ``points_lot.basis`` of the member's lots
                             (cancelled lots left out)
===========================  ==================================================

The member figures (top 1 % share, members below their spend) are computed
by :func:`..core.compliance.member_figures` from one row per member.
"""

import math
from fractions import Fraction

from odoo import _, api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..core import compliance, money, simulator

#: the simulator preset for "new orders stop today"
STOP_TODAY = "stop_today"


def _pct(value):
    """An exact share as a percentage with 2 decimals (half up), or ``—``."""
    if value is None:
        return "—"
    hundredths = math.floor(Fraction(value) * 10000 + Fraction(1, 2))
    return f"{money.to_decimal(hundredths, 2)}%"


def _ratio_text(value, digits=4):
    """An exact ratio with ``digits`` decimals (half up)."""
    scaled = math.floor(Fraction(value) * 10**digits + Fraction(1, 2))
    return str(money.to_decimal(scaled, digits))


class ReportPointsPoolCompliance(models.AbstractModel):
    _name = "report.points_pool.compliance"
    _description = "Points Pool Compliance Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not self.env.user.has_group("points_pool.points_pool_group_accountant"):
            raise AccessError(
                _("Only points pool accountants and managers can print this report.")
            )
        pools = self.env["points.pool"].browse(docids)
        pools.check_access("read")
        data = data or {}
        figures, simulations = {}, {}
        for pool in pools:
            figures[pool.id] = self._get_figures(pool, self._plan_of(pool, data))
            simulations[pool.id] = self._get_simulation(pool)
        return {
            "doc_ids": pools.ids,
            "doc_model": "points.pool",
            "docs": pools,
            "data": data,
            "figures": figures,
            "simulation": simulations,
        }

    # ------------------------------------------------------------------
    # the ledger
    # ------------------------------------------------------------------
    @api.model
    def _member_rows(self, pool):
        """One :class:`compliance.MemberRow` per member who spent or received."""
        digits = pool.currency_id.decimal_places
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH spend AS (
                    SELECT member_id, SUM(basis) AS spent
                      FROM points_lot
                     WHERE pool_id = %(pool)s AND state != 'cancelled'
                  GROUP BY member_id
                ), paid AS (
                    SELECT member_id, SUM(wallet) AS paid
                      FROM points_pool_move
                     WHERE pool_id = %(pool)s AND member_id IS NOT NULL
                       AND kind IN ('sell', 'exit', 'refund')
                  GROUP BY member_id
                ), pay AS (
                    SELECT member_id,
                           SUM(amount) FILTER (WHERE kind IN %(referral)s) AS referral,
                           SUM(amount) AS commission
                      FROM points_commission_line
                     WHERE pool_id = %(pool)s AND member_id IS NOT NULL
                  GROUP BY member_id
                )
                SELECT m.id,
                       COALESCE(spend.spent, 0)::text,
                       COALESCE(paid.paid, 0)::text,
                       COALESCE(pay.referral, 0)::text,
                       COALESCE(pay.commission, 0)::text
                  FROM points_member m
             LEFT JOIN spend ON spend.member_id = m.id
             LEFT JOIN paid ON paid.member_id = m.id
             LEFT JOIN pay ON pay.member_id = m.id
                 WHERE m.pool_id = %(pool)s
                   AND (spend.member_id IS NOT NULL OR paid.member_id IS NOT NULL
                        OR pay.member_id IS NOT NULL)
              ORDER BY m.id
                """,
                pool=pool.id,
                referral=compliance.referral_kinds(),
            )
        )
        return [
            compliance.MemberRow(
                member_id,
                spent=money.to_minor(spent, digits),
                pool_paid=money.to_minor(paid, digits),
                referral=money.to_minor(referral, digits),
                commission=money.to_minor(commission, digits),
            )
            for member_id, spent, paid, referral, commission in self.env.cr.fetchall()
        ]

    @api.model
    def _ledger_totals(self, pool):
        """Exits, sales, injections and price moves of the pool ledger."""
        digits = pool.currency_id.decimal_places
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT COUNT(*) FILTER (WHERE kind = 'exit'),
                       COUNT(DISTINCT member_id) FILTER (WHERE kind = 'exit'),
                       COALESCE(SUM(wallet) FILTER (WHERE kind = 'exit'), 0)::text,
                       COUNT(*) FILTER (WHERE kind = 'sell'),
                       COALESCE(SUM(wallet) FILTER (WHERE kind = 'sell'), 0)::text,
                       COALESCE(SUM(fund + reserve) FILTER (WHERE kind = 'inject'),
                                0)::text,
                       COUNT(*) FILTER (WHERE price_after < price_before),
                       MAX(price_after)
                  FROM points_pool_move
                 WHERE pool_id = %s
                """,
                pool.id,
            )
        )
        (
            exits,
            exit_members,
            exit_paid,
            sells,
            sell_paid,
            injected,
            falls,
            top_price,
        ) = cr.fetchone()
        cr.execute(
            SQL(
                """
                SELECT COALESCE(SUM(inflow) FILTER (WHERE state != 'cancelled'), 0)::text,
                       COALESCE(SUM(cap - realized) FILTER (WHERE state = 'open'),
                                0)::text,
                       COUNT(*) FILTER (WHERE state = 'open')
                  FROM points_lot
                 WHERE pool_id = %s
                """,
                pool.id,
            )
        )
        inflow, open_gap, open_lots = cr.fetchone()
        # referral pay per order (lot), against the order's basis
        limit = compliance.REFERRAL_SHARE_LIMIT
        cr.execute(
            SQL(
                """
                WITH pay AS (
                    SELECT lot_id, SUM(amount) AS pay
                      FROM points_commission_line
                     WHERE pool_id = %(pool)s AND member_id IS NOT NULL
                       AND lot_id IS NOT NULL AND kind IN %(referral)s
                  GROUP BY lot_id
                )
                SELECT COUNT(*),
                       COUNT(*) FILTER (WHERE pay.pay * %(den)s > lot.basis * %(num)s)
                  FROM pay JOIN points_lot lot ON lot.id = pay.lot_id
                """,
                pool=pool.id,
                referral=compliance.referral_kinds(),
                num=limit.numerator,
                den=limit.denominator,
            )
        )
        paid_orders, orders_above = cr.fetchone()
        cr.execute(
            SQL(
                """
                SELECT pay.pay::text, lot.basis::text
                  FROM (SELECT lot_id, SUM(amount) AS pay
                          FROM points_commission_line
                         WHERE pool_id = %(pool)s AND member_id IS NOT NULL
                           AND lot_id IS NOT NULL AND kind IN %(referral)s
                      GROUP BY lot_id) pay
                  JOIN points_lot lot ON lot.id = pay.lot_id
                 WHERE lot.basis > 0
              ORDER BY pay.pay / lot.basis DESC, lot.id
                 LIMIT 1
                """,
                pool=pool.id,
                referral=compliance.referral_kinds(),
            )
        )
        row = cr.fetchone()
        top_order_share = (
            compliance.referral_share(
                money.to_minor(row[0], digits), money.to_minor(row[1], digits)
            )
            if row
            else None
        )
        cr.execute(
            SQL(
                "SELECT MAX(level) FROM points_commission_line "
                "WHERE pool_id = %s AND member_id IS NOT NULL AND amount > 0 "
                "AND kind IN %s",
                pool.id,
                compliance.referral_kinds(),
            )
        )
        max_level = cr.fetchone()[0] or 0
        return {
            "exits": exits,
            "exit_members": exit_members,
            "exit_paid": money.to_minor(exit_paid, digits),
            "sells": sells,
            "sell_paid": money.to_minor(sell_paid, digits),
            "injected": money.to_minor(injected, digits),
            "price_falls": falls,
            "top_price": top_price or 0.0,
            "inflow": money.to_minor(inflow, digits),
            "open_gap": money.to_minor(open_gap, digits),
            "open_lots": open_lots,
            "paid_orders": paid_orders,
            "orders_above": orders_above,
            "top_order_share": top_order_share,
            "max_level": max_level,
        }

    # ------------------------------------------------------------------
    # the configuration
    # ------------------------------------------------------------------
    @api.model
    def _plan_of(self, pool, data):
        """The configuration the report is about: the plan named by
        ``data["plan_id"]`` (e.g. a draft plan being considered: *Compliance
        report* on the plan form), when it is the pool's company's, else the
        company's active plan."""
        plan_id = data.get("plan_id")
        if plan_id:
            plan = self.env["points.commission.plan"].browse(int(plan_id)).exists()
            if not plan or plan.company_id != pool.company_id:
                raise AccessError(
                    _("This commission plan is not a plan of the pool's company.")
                )
            plan.check_access("read")
            return plan.sudo()
        return self._active_plan(pool)

    @api.model
    def _active_plan(self, pool):
        return (
            self.env["points.commission.plan"]
            .sudo()
            .search(
                [("company_id", "=", pool.company_id.id), ("state", "=", "active")],
                limit=1,
            )
        )

    @api.model
    def _mechanisms(self, pool, plan):
        """Rows ``{"name", "risk", "rules"}`` of the enabled mechanisms."""
        Plan = self.env["points.commission.plan"]
        kinds = dict(
            self.env["points.commission.rule"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        names = {
            compliance.POOL: _("Points pool: forced exit at the cap"),
            compliance.CREDIT: _("Repurchase credit on withdrawals"),
            compliance.VESTING: _("Daily vesting of minted points"),
        }
        tags = Plan._risk_tag_texts()
        counts = {}
        for rule in plan.rule_ids:
            counts[rule.kind] = counts.get(rule.kind, 0) + 1
        rows = []
        for mechanism, tag in compliance.enabled_mechanisms(
            counts,
            cash_share=money.fraction_of(pool.cash_share) / 100,
            vesting_rate=money.fraction_of(pool.vesting_rate or 0) / 100,
        ):
            rows.append(
                {
                    "name": names.get(mechanism) or kinds.get(mechanism, mechanism),
                    "risk": tags[tag],
                    "rules": counts.get(mechanism, 0),
                }
            )
        return rows

    @api.model
    def _warnings(self, pool, plan, ledger):
        if plan:
            texts = plan._get_warnings()
        else:
            params = pool._get_params()
            packages = (
                self.env["points.rank"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", pool.company_id.id),
                        ("package_product_ids", "!=", False),
                    ]
                )
            )
            texts = self.env["points.commission.plan"]._warning_texts(
                compliance.pool_warnings(
                    params.retention, params.exit_multiple, packages
                )
            )
        if ledger["orders_above"]:
            texts.append(
                _(
                    "%(count)s of %(total)s orders that paid referral pay paid more "
                    "than 10%% of the order (highest: %(share)s).",
                    count=ledger["orders_above"],
                    total=ledger["paid_orders"],
                    share=_pct(ledger["top_order_share"]),
                )
            )
        return texts

    # ------------------------------------------------------------------
    # all figures of one pool
    # ------------------------------------------------------------------
    @api.model
    def _get_figures(self, pool, plan=None):
        """Everything the template shows for ``pool``: exact values and text.

        Money is in minor units (``*_text``: formatted in the currency),
        shares are :class:`~fractions.Fraction`.
        """
        currency = pool.currency_id
        digits = currency.decimal_places

        def amount(minor):
            return currency.format(money.to_float(minor, digits))

        params = pool._get_params()
        if plan is None:
            plan = self._active_plan(pool)
        rows = self._member_rows(pool)
        members = compliance.member_figures(rows)
        ledger = self._ledger_totals(pool)
        static = compliance.static_return(params.retention, params.exit_multiple)
        fund = money.round_minor(pool.fund, digits)
        promised = compliance.promised_at_exit(params.retention, ledger["open_gap"])
        pay, top, spend = members["pay"], members["top"], members["spend"]
        return {
            "plan": plan,
            "mechanisms": self._mechanisms(pool, plan),
            "warnings": self._warnings(pool, plan, ledger),
            "not_built": self.env["points.commission.plan"]._get_not_built(),
            "depth": plan.depth if plan else 0,
            "depth_acknowledged": plan.depth_acknowledged if plan else False,
            "max_level": ledger["max_level"],
            "static_return": static,
            "static_return_text": _ratio_text(static),
            "static_return_above": static > compliance.STATIC_RETURN_LIMIT,
            "members": members,
            "ledger": ledger,
            "promised": promised,
            "fund": fund,
            "fund_covers": compliance.ratio(fund, promised) if promised else None,
            "text": {
                "spent": amount(members["spent"]),
                "pool_paid": amount(members["pool_paid"]),
                "sell_paid": amount(ledger["sell_paid"]),
                "exit_paid": amount(ledger["exit_paid"]),
                "referral": amount(members["referral"]),
                "commission": amount(members["commission"]),
                "received": amount(members["received"]),
                "referral_over_pool": _pct(pay.referral_over_pool),
                "commission_over_pool": _pct(pay.commission_over_pool),
                "referral_over_spent": _pct(pay.referral_over_spent),
                "commission_share": _pct(pay.commission_share),
                "top_paid": amount(top.paid),
                "top_share": _pct(top.share),
                "below_share": _pct(spend.below_share),
                "recovered_share": _pct(spend.recovered_share),
                "earned_share": _pct(spend.earned_share),
                "inflow": amount(ledger["inflow"]),
                "injected": amount(ledger["injected"]),
                "fund": amount(fund),
                "promised": amount(math.floor(promised)),
                "fund_covers": _pct(compliance.ratio(fund, promised))
                if promised
                else "—",
                "top_order_share": _pct(ledger["top_order_share"]),
                "price": f"{pool.price_exact:.4f}",
                "initial_price": f"{pool.initial_price:.4f}",
                "top_price": f"{ledger['top_price']:.4f}",
            },
            "claims": self._claims(pool, members, ledger),
        }

    @api.model
    def _claims(self, pool, members, ledger):
        """The seeds' claims beside what the ledger says (translated)."""
        currency = pool.currency_id
        digits = currency.decimal_places
        spend = members["spend"]
        return [
            {
                "claim": "积分价格永远单边上扬",
                "meaning": _("The point price always rises."),
                "ledger": _(
                    "The price went from %(start)s to %(price)s, carried by "
                    "%(inflow)s of order money and %(injected)s of platform money; "
                    "%(falls)s ledger lines lowered it. It rises only while money "
                    "comes in or members sell at a retention: see the price path "
                    "if new consumption stops today below.",
                    start=f"{pool.initial_price:.4f}",
                    price=f"{pool.price_exact:.4f}",
                    inflow=currency.format(money.to_float(ledger["inflow"], digits)),
                    injected=currency.format(
                        money.to_float(ledger["injected"], digits)
                    ),
                    falls=ledger["price_falls"],
                ),
            },
            {
                "claim": "几乎所有用户都能免费消费还赚钱",
                "meaning": _("Almost everyone consumes for free and earns."),
                "ledger": _(
                    "%(recovered)s of %(spenders)s members who spent (%(share)s) "
                    "got their spend back in payouts and commissions; %(earned)s "
                    "(%(earned_share)s) got more than they spent; %(below)s "
                    "(%(below_share)s) are below their spend.",
                    recovered=spend.recovered,
                    spenders=spend.spenders,
                    share=_pct(spend.recovered_share),
                    earned=spend.earned,
                    earned_share=_pct(spend.earned_share),
                    below=spend.below,
                    below_share=_pct(spend.below_share),
                ),
            },
        ]

    # ------------------------------------------------------------------
    # price path if new consumption stops today (core/simulator.py)
    # ------------------------------------------------------------------
    @api.model
    def _format_path(self, path):
        """``[(day, price text)]`` of a given path (prices as text)."""
        rows = []
        for day, price in path:
            if isinstance(price, Fraction):
                price = _ratio_text(price, 6)
            rows.append((day, str(price)))
        return rows

    @api.model
    def _get_simulation(self, pool):
        """``[(day, price text)]`` of the simulator's "new orders stop today"
        preset run from the pool's snapshot, the days where the price
        changed and the first and last; ``None`` when not available."""
        result = simulator.simulate(
            simulator.preset(STOP_TODAY),
            pool._get_params(),
            pool._simulation_snapshot(),
        )
        days = result.days
        path = [
            row
            for index, row in enumerate(days)
            if index in (0, len(days) - 1) or row.price != days[index - 1].price
        ]
        return self._format_path((row.day, row.price) for row in path)
