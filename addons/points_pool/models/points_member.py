from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import money
from ..core.pool import LOT_OPEN, LOT_SETTLED, POINT_DIGITS, floor, sell_quote
from .points_pool import is_manager, run_apart
from .points_referral_node import referral_qr_data_uri

#: direct members listed by name in :meth:`PointsMember.get_referral_info`
DIRECT_NAMES_LIMIT = 200


class PointsMember(models.Model):
    """A partner enrolled in a company's points pool.

    Points and balances are kept up to date set-based by
    :meth:`_apply_ledger`, once per pool operation, never per order loop.
    """

    _name = "points.member"
    _description = "Points Pool Member"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="restrict"
    )
    pool_id = fields.Many2one(
        "points.pool", required=True, index=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="pool_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="pool_id.currency_id")
    user_ids = fields.One2many(related="partner_id.user_ids")
    points_held = fields.Float("Points", digits="Points", readonly=True)
    points_locked = fields.Float("Locked points", digits="Points", readonly=True)
    wallet_balance = fields.Monetary("Wallet", readonly=True)
    credit_balance = fields.Monetary("Repurchase credit", readonly=True)
    wallet_reserved = fields.Monetary(
        "Reserved for withdrawals",
        readonly=True,
        help="Requested withdrawals not yet approved, rejected or cancelled: "
        "reserved when requested, so two requests at once cannot both spend it.",
    )
    frozen_balance = fields.Monetary(
        "Frozen",
        readonly=True,
        help="Withdrawn money kept frozen until the sales conditions hold.",
    )
    commission_line_ids = fields.One2many("points.commission.line", "member_id")
    commission_total = fields.Monetary(
        "Commissions earned", compute="_compute_commission_totals"
    )
    commission_accrued = fields.Monetary(
        "Commissions on hold", compute="_compute_commission_totals"
    )
    lot_ids = fields.One2many("points.lot", "member_id")
    ledger_ids = fields.One2many("points.pool.move", "member_id")
    withdrawal_ids = fields.One2many("points.withdrawal", "member_id")

    points_free = fields.Float(
        "Free points", digits="Points", compute="_compute_position"
    )
    consumption = fields.Monetary(
        compute="_compute_position", help="Basis of the open lots."
    )
    value = fields.Monetary(compute="_compute_position")
    trigger_price = fields.Float(
        "Next exit price", digits="Points Price", compute="_compute_position"
    )
    exit_progress = fields.Float("Progress to exit (%)", compute="_compute_position")
    wallet_available = fields.Monetary(
        compute="_compute_wallet_available",
        help="Wallet less the withdrawals requested and not yet paid.",
    )

    # referral network (the tree lives on points.referral.node)
    referral_node_ids = fields.One2many("points.referral.node", "member_id")
    referral_node_id = fields.Many2one(
        "points.referral.node",
        "Referral node",
        compute="_compute_referral_node_id",
        search="_search_referral_node_id",
    )
    referral_code = fields.Char(related="referral_node_id.code")
    referral_url = fields.Char(related="referral_node_id.referral_url")
    referrer_node_id = fields.Many2one(
        related="referral_node_id.parent_id", string="Referrer node"
    )
    referrer_id = fields.Many2one(
        related="referral_node_id.parent_id.partner_id", string="Referred by"
    )
    bind_date = fields.Datetime(related="referral_node_id.bind_date")
    bind_source = fields.Selection(related="referral_node_id.bind_source")
    rank_id = fields.Many2one(
        "points.rank",
        compute="_compute_rank_id",
        inverse="_inverse_rank_id",
        domain="[('company_id', '=', company_id)]",
        check_company=True,
    )
    upline_ids = fields.Many2many(
        "points.referral.node", string="Referrers above", compute="_compute_upline_ids"
    )
    direct_ids = fields.One2many(
        related="referral_node_id.child_ids", string="Direct team"
    )
    direct_count = fields.Integer(related="referral_node_id.direct_count")
    team_count = fields.Integer(related="referral_node_id.team_count")
    team_volume = fields.Monetary(related="referral_node_id.team_volume")

    _sql_constraints = [
        (
            "partner_pool_unique",
            "UNIQUE(partner_id, pool_id)",
            "A partner joins a pool once.",
        ),
    ]

    @api.depends("lot_ids.state", "lot_ids.held", "points_held", "pool_id.fund")
    def _compute_position(self):
        groups = {
            member: (basis, cap, realized, trigger)
            for member, basis, cap, realized, trigger in self.env[
                "points.lot"
            ]._read_group(
                [("member_id", "in", self.ids), ("state", "=", LOT_OPEN)],
                ["member_id"],
                ["basis:sum", "cap:sum", "realized:sum", "trigger_price:min"],
            )
        }
        for member in self:
            basis, cap, realized, trigger = groups.get(member, (0.0, 0.0, 0.0, 0.0))
            price = member.pool_id.price_exact
            member.points_free = member.points_held - member.points_locked
            member.consumption = basis
            member.value = member.currency_id.round(member.points_held * price)
            member.trigger_price = trigger or 0.0
            member.exit_progress = (
                min(100.0, 100.0 * (realized + member.value) / cap) if cap else 0.0
            )

    @api.depends("wallet_balance", "wallet_reserved")
    def _compute_wallet_available(self):
        for member in self:
            member.wallet_available = member.wallet_balance - member.wallet_reserved

    def _compute_commission_totals(self):
        rows = self.env["points.commission.line"]._read_group(
            [("member_id", "in", self.ids)], ["member_id", "state"], ["amount:sum"]
        )
        totals, held = {}, {}
        for member, state, amount in rows:
            totals[member] = totals.get(member, 0.0) + amount
            if state == "accrued":
                held[member] = held.get(member, 0.0) + amount
        for member in self:
            member.commission_total = totals.get(member, 0.0)
            member.commission_accrued = held.get(member, 0.0)

    def action_open_commissions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_commission_line_action"
        )
        action["domain"] = [("member_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.depends("referral_node_ids")
    def _compute_referral_node_id(self):
        for member in self:
            member.referral_node_id = member.referral_node_ids[:1]

    def _search_referral_node_id(self, operator, value):
        return [("referral_node_ids", operator, value)]

    @api.depends("referral_node_ids.rank_id")
    def _compute_rank_id(self):
        for member in self:
            member.rank_id = member.referral_node_ids[:1].rank_id

    def _inverse_rank_id(self):
        if not is_manager(self.env):
            raise UserError(_("Only a points pool manager can change a rank."))
        for member in self:
            member.referral_node_id._set_rank(member.rank_id, "manager")

    @api.depends("referral_node_ids.parent_path")
    def _compute_upline_ids(self):
        for member in self:
            node = member.referral_node_id
            member.upline_ids = node._get_upline() if node else False

    #: written only by the pool engine and the referral methods (as superuser)
    _PROTECTED_FIELDS = frozenset(
        {
            "partner_id",
            "pool_id",
            "points_held",
            "points_locked",
            "wallet_balance",
            "credit_balance",
            "frozen_balance",
            "wallet_reserved",
        }
    )

    def write(self, vals):
        if not self.env.su and self._PROTECTED_FIELDS & set(vals):
            raise UserError(
                _(
                    "Points, balances, partner and pool of a member change only "
                    "through pool operations."
                )
            )
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            balances = self._PROTECTED_FIELDS - {"partner_id", "pool_id"}
            if not self.env.su and balances & set(vals):
                raise UserError(
                    _("A new member starts with no points and empty balances.")
                )
        members = super().create(vals_list)
        members._create_referral_nodes()
        return members

    def _create_referral_nodes(self):
        self.env["points.referral.node"].sudo().create(
            [
                {
                    "member_id": member.id,
                    "partner_id": member.partner_id.id,
                    "pool_id": member.pool_id.id,
                    "company_id": member.company_id.id,
                }
                for member in self
            ]
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_booked(self):
        if self.env["points.pool.move"].search_count(
            [("member_id", "in", self.ids)], limit=1
        ):
            raise UserError(_("A member with ledger lines cannot be deleted."))

    # ------------------------------------------------------------------
    # business methods
    # ------------------------------------------------------------------
    @api.model
    def _find(self, pool, partner):
        """The member of ``partner`` (a commercial partner) in ``pool``, or an
        empty recordset: never creates one (see :meth:`_get_or_create`)."""
        return self.search(
            [("pool_id", "=", pool.id), ("partner_id", "=", partner.id)], limit=1
        )

    @api.model
    def _get_or_create(self, pool, partners):
        """Members of ``partners`` (commercial entities) in ``pool``; created if missing.

        Race-free: the insert is ``ON CONFLICT DO NOTHING``.  When a concurrent
        transaction enrols the same partner first, PostgreSQL answers the
        later one with a serialization failure (its snapshot cannot see the
        new row), which Odoo retries, and the retry finds the member; never a
        unique-constraint error that would fail the payment.
        """
        partners = partners.commercial_partner_id
        existing = self.sudo().search(
            [("pool_id", "=", pool.id), ("partner_id", "in", partners.ids)]
        )
        missing = partners - existing.partner_id
        if not missing:
            return existing
        # no "created" chatter line and no ORM create: this runs on the payment path
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "INSERT INTO points_member (partner_id, pool_id, company_id, create_uid, "
                "create_date, write_uid, write_date) "
                "SELECT p, %s, %s, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC' "
                "FROM unnest(%s::int[]) AS p ORDER BY p "
                "ON CONFLICT (partner_id, pool_id) DO NOTHING RETURNING id",
                pool.id,
                pool.company_id.id,
                self.env.uid,
                self.env.uid,
                missing.ids,
            )
        )
        created = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        created._create_referral_nodes()
        if len(created) < len(missing):
            # enrolled meanwhile by a transaction we can see (READ COMMITTED)
            created |= self.sudo().search(
                [("pool_id", "=", pool.id), ("partner_id", "in", missing.ids)]
            )
        return existing | created

    @api.model
    def _get_or_create_ids(self, pool, partner_ids, enrolled=None):
        """``{partner id: member id}`` in ``pool`` for these commercial partners,
        enrolling the missing ones: one query when all are members (the
        checkout path).

        :param enrolled: a set that receives the partner ids enrolled now
        """
        self.env.cr.execute(
            SQL(
                "SELECT partner_id, id FROM points_member WHERE pool_id = %s "
                "AND partner_id = ANY(%s)",
                pool.id,
                list(partner_ids),
            )
        )
        members = dict(self.env.cr.fetchall())
        missing = [
            partner_id for partner_id in partner_ids if partner_id not in members
        ]
        if missing:
            partners = self.env["res.partner"].browse(missing)
            for member in self._get_or_create(pool, partners):
                members[member.partner_id.id] = member.id
            if enrolled is not None:
                enrolled.update(missing)
        return members

    def _lock(self):
        """Lock the member rows (wallet changes outside pool events)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_member WHERE id IN %s FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )

    def _reserve_wallet(self, amount):
        """Reserve ``amount`` (a ``Decimal``) of the wallet for a withdrawal, or
        raise.  One conditional ``UPDATE``: the check and the reservation are
        the same statement, so it reads the row as last committed (a
        concurrent request that committed first makes this transaction retry
        under REPEATABLE READ, then see it)."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE points_member SET wallet_reserved = COALESCE(wallet_reserved, 0) + %s "
                "WHERE id = %s AND COALESCE(wallet_balance, 0) - COALESCE(wallet_reserved, 0) "
                ">= %s RETURNING id",
                amount,
                self.id,
                amount,
            )
        )
        reserved = bool(self.env.cr.fetchone())
        self.invalidate_recordset(["wallet_reserved", "wallet_available"])
        return reserved

    def _unreserve_wallet(self, amounts):
        """Give back reservations: ``{member id: Decimal amount}``, one query."""
        if not amounts:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE points_member AS m SET wallet_reserved = "
                "COALESCE(m.wallet_reserved, 0) - v.amount FROM (VALUES %s) AS v(id, amount) "
                "WHERE m.id = v.id",
                SQL(", ").join(
                    SQL("(%s, %s::numeric)", member_id, amount)
                    for member_id, amount in sorted(amounts.items())
                ),
            )
        )
        self.env["points.member"].invalidate_model(
            ["wallet_reserved", "wallet_available"]
        )

    @api.model
    def _apply_ledger(self, lines):
        """Add the ledger lines' deltas to the members' stored balances (one query)."""
        deltas = {}
        digits = 2
        for line in lines:
            if not line.member_id:
                continue
            digits = line.currency_id.decimal_places
            delta = deltas.setdefault(line.member_id.id, [0, 0, 0, 0])
            delta[0] += money.round_minor(line.points, POINT_DIGITS)
            delta[1] += money.round_minor(line.wallet, digits)
            delta[2] += money.round_minor(line.credit, digits)
            delta[3] += money.round_minor(line.frozen, digits)
        self._apply_deltas(deltas, digits)

    @api.model
    def _apply_deltas(self, deltas, digits):
        """Add ``{member id: [points, wallet, credit, frozen]}`` (points in 1e-4,
        money in minor units) to the members' balances, and recompute their
        locked points from their open lots: one ``UPDATE``."""
        if not deltas:
            return
        values = SQL(", ").join(
            SQL(
                "(%s, %s::numeric, %s::numeric, %s::numeric, %s::numeric)",
                member_id,
                money.to_decimal(points, POINT_DIGITS),
                money.to_decimal(wallet, digits),
                money.to_decimal(credit, digits),
                money.to_decimal(frozen, digits),
            )
            for member_id, (points, wallet, credit, frozen) in sorted(deltas.items())
        )
        self.env.cr.execute(
            SQL(
                "UPDATE points_member AS m "
                "SET points_held = COALESCE(m.points_held, 0) + v.points, "
                "wallet_balance = COALESCE(m.wallet_balance, 0) + v.wallet, "
                "credit_balance = COALESCE(m.credit_balance, 0) + v.credit, "
                "frozen_balance = COALESCE(m.frozen_balance, 0) + v.frozen, "
                "points_locked = (SELECT COALESCE(SUM(l.locked), 0) FROM points_lot l "
                "  WHERE l.member_id = m.id AND l.state = 'open') "
                "FROM (VALUES %s) AS v(id, points, wallet, credit, frozen) WHERE m.id = v.id",
                values,
            )
        )
        self.env.invalidate_all()

    def get_position(self):
        """A member's position, as a dict (README "Python / RPC API").

        :return: ``{"points", "points_free", "points_locked", "value", "wallet",
            "wallet_available", "credit", "frozen", "commissions",
            "commissions_on_hold", "consumption", "trigger_price", "exit_progress",
            "price"}``
        """
        self.ensure_one()
        return {
            "frozen": self.frozen_balance,
            "commissions": self.commission_total,
            "commissions_on_hold": self.commission_accrued,
            "points": self.points_held,
            "points_free": self.points_free,
            "points_locked": self.points_locked,
            "value": self.value,
            "wallet": self.wallet_balance,
            "wallet_available": self.wallet_available,
            "credit": self.credit_balance,
            "consumption": self.consumption,
            "trigger_price": self.trigger_price,
            "exit_progress": self.exit_progress,
            "price": self.pool_id.get_pool_state()["price"],
        }

    def action_sell(self, points, idempotency_key=None):
        """Sell ``points`` free points at the current price into the wallet (RPC).

        Oldest lots first; the payout is ``floor((1 - r) * points * price)``.
        A pool event of its own (README "Concurrency").
        :param idempotency_key: optional; a repeated key returns the first
            result and books nothing (README "Retries")
        :return: ``{"ledger_id", "points", "gross", "payout", "price_before",
            "price_after", "exits"}`` (exits: lots forced out by the price rise)
        """
        self.ensure_one()
        self._check_can_act()
        return run_apart(self, "_sell_result", points, idempotency_key)

    def _sell_result(self, points, idempotency_key=None):
        def sell():
            lines = self._sell(points)
            line = lines.filtered(lambda ledger: ledger.kind == "sell")
            return {
                "ledger_id": line.id,
                "points": -line.points,
                "gross": line.gross,
                "payout": line.wallet,
                "price_before": line.price_before,
                "price_after": line.price_after,
                "exits": len(lines.filtered(lambda ledger: ledger.kind == "exit")),
            }

        pool = self.pool_id.sudo()
        return pool._call_once(
            idempotency_key, "points.member.action_sell", sell, pool._lock_state
        )

    def _sell(self, points):
        """Sell points; :return: every ledger line written (the sell, exits, ...)."""
        self.ensure_one()
        self._check_can_act()
        units = self._parse_points(points)
        pool = self.pool_id.sudo()
        with pool._operation(source=self) as engine:
            lots = engine.store.member_lots(self.id)
            engine.sell(self.id, lots, units)
        return engine.ledger_lines

    def get_sell_quote(self, points):
        """What selling ``points`` would pay now, without selling (RPC, portal).

        The payout is ``floor((1 - r) * points * price)``; the actual sale runs
        at the price of its own moment, which never is lower.

        :return: ``{"points", "price", "gross", "retention", "payout",
            "points_free"}``
        """
        self.ensure_one()
        self._check_can_act()
        units = self._parse_points(points)
        pool = self.pool_id.sudo()
        params = pool._get_params()
        free = money.round_minor(self.points_free, POINT_DIGITS)
        if units <= 0:
            raise UserError(_("The number of points to sell must be positive."))
        if units > free:
            raise UserError(
                _(
                    "You can sell at most %(free)s points (%(locked)s more are locked).",
                    free=money.to_decimal(free, POINT_DIGITS),
                    locked=money.to_decimal(
                        money.round_minor(self.points_locked, POINT_DIGITS),
                        POINT_DIGITS,
                    ),
                )
            )
        price = pool._get_state().price(params)
        gross, payout = sell_quote(units, price, params)
        digits = pool.currency_id.decimal_places
        return {
            "points": money.to_float(units, POINT_DIGITS),
            "price": float(money.ceil_decimal(price)),
            "gross": money.to_float(floor(gross), digits),
            "retention": money.to_float(floor(gross) - payout, digits),
            "payout": money.to_float(payout, digits),
            "points_free": money.to_float(free, POINT_DIGITS),
        }

    @api.model
    def _parse_points(self, points):
        try:
            return money.parse_amount(points, POINT_DIGITS)
        except ValueError as error:
            raise UserError(_("The number of points must be a number.")) from error

    def action_request_withdrawal(self, amount, idempotency_key=None):
        """Request a withdrawal of ``amount`` from the wallet (RPC; a manager approves).

        The amount is reserved on the member at once (``wallet_reserved``), so
        two requests at the same time cannot both spend the same money.
        :param idempotency_key: optional; a repeated key returns the first
            result and books nothing (README "Retries")
        :return: ``{"withdrawal_id", "name", "state", "amount"}``
        """
        self.ensure_one()
        self._check_can_act()

        def request():
            withdrawal = self._request_withdrawal(amount)
            return {
                "withdrawal_id": withdrawal.id,
                "name": withdrawal.name,
                "state": withdrawal.state,
                "amount": withdrawal.amount,
            }

        return self.pool_id.sudo()._call_once(
            idempotency_key,
            "points.member.action_request_withdrawal",
            request,
            self.sudo()._lock,
        )

    def _request_withdrawal(self, amount):
        self.ensure_one()
        self._check_can_act()
        return (
            self.env["points.withdrawal"]
            .sudo()
            .create({"member_id": self.id, "amount": amount})
        )

    def get_referral_info(self):
        """The member's referral data, as a dict (README "Python / RPC API").

        :return: ``{"code", "url", "referrer", "bind_source", "rank", "direct_count",
            "team_count", "own_volume", "team_volume", "direct_members"}``
            (direct members by name only, the first 200: nothing else of
            other members)
        """
        self.ensure_one()
        self._check_can_act()
        node = self.referral_node_id.sudo()
        return {
            "code": node.code,
            "url": node.referral_url,
            "referrer": node.parent_id.partner_id.name or False,
            "bind_source": node.bind_source or False,
            "rank": node.rank_id.name or False,
            "direct_count": node.direct_count,
            "team_count": node.team_count,
            "own_volume": node.own_volume,
            "team_volume": node.team_volume,
            "direct_members": node.search(
                [("parent_id", "=", node.id)], limit=DIRECT_NAMES_LIMIT
            ).partner_id.mapped("name"),
        }

    def action_bind_referrer(self, code):
        """Bind this member to the owner of referral ``code`` (RPC).

        Only an unbound member binds (first binding wins); self-referral,
        cycles and unknown codes raise :class:`UserError` and change nothing.

        :return: ``{"referrer", "bind_source"}``
        """
        self.ensure_one()
        self._check_can_act()
        referrer, store = self.env["points.referral.node"]._resolve_code(
            code, self.company_id
        )
        if not referrer:
            raise UserError(_("Unknown referral code: %(code)s", code=code))
        node = self.referral_node_id.sudo()
        node._bind(referrer, "store" if store else "code", store=store)
        return {
            "referrer": node.parent_id.partner_id.name,
            "bind_source": node.bind_source,
        }

    def _get_referral_qr_data_uri(self):
        """QR of the referral link as a data URI (portal page, printed card)."""
        self.ensure_one()
        return referral_qr_data_uri(self.referral_url) if self.referral_url else ""

    def action_open_reassign(self):
        self.ensure_one()
        return self.referral_node_id.action_open_reassign()

    def action_open_direct(self):
        self.ensure_one()
        return self.referral_node_id.action_open_direct()

    def action_open_downline(self):
        self.ensure_one()
        return self.referral_node_id.action_open_downline()

    def _freeze_conditions_met(self):
        """Members of ``self`` whose frozen share may be released (SPEC 4):
        their direct members placed enough settled orders, and they did too.
        Sales-based only; a count of recruits is never a condition.

        No condition configured means they hold.
        :return: set of member ids; one query for any number of members
        """
        if not self:
            return set()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                SELECT m.id, p.freeze_direct_orders, p.freeze_own_orders,
                       (SELECT count(*) FROM points_lot l WHERE l.member_id = m.id
                         AND l.state IN %(settled)s),
                       (SELECT count(*) FROM points_referral_node n
                          JOIN points_referral_node c ON c.parent_id = n.id
                          JOIN points_lot l ON l.member_id = c.member_id
                         WHERE n.member_id = m.id
                           AND l.state IN %(settled)s)
                  FROM points_member m JOIN points_pool p ON p.id = m.pool_id
                 WHERE m.id IN %(ids)s
                """,
                settled=LOT_SETTLED,
                ids=tuple(self.ids),
            )
        )
        return {
            member_id
            for member_id, need_direct, need_own, own, direct in self.env.cr.fetchall()
            if direct >= (need_direct or 0) and own >= (need_own or 0)
        }

    def _check_can_act(self):
        """Managers act for anyone; others only for their own commercial partner."""
        if is_manager(self.env):
            return
        if self.partner_id != self.env.user.partner_id.commercial_partner_id:
            raise UserError(_("You can only act on your own points."))

    def action_open_sell(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Sell points"),
            "res_model": "points.pool.sell",
            "view_mode": "form",
            "target": "new",
            "context": {"default_member_id": self.id},
        }

    def action_open_ledger(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_pool_move_action"
        )
        action["domain"] = [("member_id", "=", self.id)]
        return action
