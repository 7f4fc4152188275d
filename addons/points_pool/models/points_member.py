from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import money
from ..core.pool import POINT_DIGITS


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
                [("member_id", "in", self.ids), ("state", "=", "open")],
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

    @api.depends("wallet_balance", "withdrawal_ids.state", "withdrawal_ids.amount")
    def _compute_wallet_available(self):
        requested = {
            member: amount
            for member, amount in self.env["points.withdrawal"]._read_group(
                [("member_id", "in", self.ids), ("state", "=", "requested")],
                ["member_id"],
                ["amount:sum"],
            )
        }
        for member in self:
            member.wallet_available = member.wallet_balance - requested.get(member, 0.0)

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
    def _get_or_create(self, pool, partners):
        """Members of ``partners`` (commercial entities) in ``pool``; created if missing."""
        partners = partners.commercial_partner_id
        existing = self.sudo().search(
            [("pool_id", "=", pool.id), ("partner_id", "in", partners.ids)]
        )
        missing = partners - existing.partner_id
        if missing:
            existing |= self.sudo().create(
                [{"pool_id": pool.id, "partner_id": partner.id} for partner in missing]
            )
        return existing

    def _lock(self):
        """Lock the member rows (wallet changes outside pool events)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_member WHERE id IN %s FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )

    @api.model
    def _apply_ledger(self, lines):
        """Add the ledger lines' deltas to the members' stored balances (one query)."""
        deltas = {}
        for line in lines:
            if not line.member_id:
                continue
            digits = line.currency_id.decimal_places
            delta = deltas.setdefault(line.member_id.id, [0, 0, 0, digits])
            delta[0] += money.round_minor(line.points, POINT_DIGITS)
            delta[1] += money.round_minor(line.wallet, digits)
            delta[2] += money.round_minor(line.credit, digits)
        if not deltas:
            return
        values = SQL(", ").join(
            SQL(
                "(%s, %s::numeric, %s::numeric, %s::numeric)",
                member_id,
                money.to_decimal(points, POINT_DIGITS),
                money.to_decimal(wallet, digits),
                money.to_decimal(credit, digits),
            )
            for member_id, (points, wallet, credit, digits) in deltas.items()
        )
        self.env.cr.execute(
            SQL(
                "UPDATE points_member AS m "
                "SET points_held = COALESCE(m.points_held, 0) + v.points, "
                "wallet_balance = COALESCE(m.wallet_balance, 0) + v.wallet, "
                "credit_balance = COALESCE(m.credit_balance, 0) + v.credit, "
                "points_locked = (SELECT COALESCE(SUM(l.locked), 0) FROM points_lot l "
                "  WHERE l.member_id = m.id AND l.state = 'open') "
                "FROM (VALUES %s) AS v(id, points, wallet, credit) WHERE m.id = v.id",
                values,
            )
        )
        self.env.invalidate_all()

    def get_position(self):
        """A member's position, as a dict (README "Python / RPC API").

        :return: ``{"points", "points_free", "points_locked", "value", "wallet",
            "wallet_available", "credit", "consumption", "trigger_price",
            "exit_progress", "price"}``
        """
        self.ensure_one()
        return {
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

    def action_sell(self, points):
        """Sell ``points`` free points at the current price into the wallet (RPC).

        Oldest lots first; the payout is ``floor((1 - r) * points * price)``.
        :return: ``{"ledger_id", "points", "gross", "payout", "price_before",
            "price_after", "exits"}`` (exits: lots forced out by the price rise)
        """
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

    def _sell(self, points):
        """Sell points; :return: every ledger line written (the sell, exits, ...)."""
        self.ensure_one()
        self._check_can_act()
        try:
            units = money.round_minor(points, POINT_DIGITS)
        except (ArithmeticError, ValueError) as error:
            raise UserError(_("The number of points must be a number.")) from error
        pool = self.pool_id.sudo()
        with pool._operation(source=self) as engine:
            lots = engine.store.member_lots(self.id)
            engine.sell(self.id, lots, units)
        return engine.ledger_lines

    def action_request_withdrawal(self, amount):
        """Request a withdrawal of ``amount`` from the wallet (RPC; a manager approves).

        :return: ``{"withdrawal_id", "name", "state", "amount"}``
        """
        withdrawal = self._request_withdrawal(amount)
        return {
            "withdrawal_id": withdrawal.id,
            "name": withdrawal.name,
            "state": withdrawal.state,
            "amount": withdrawal.amount,
        }

    def _request_withdrawal(self, amount):
        self.ensure_one()
        self._check_can_act()
        return (
            self.env["points.withdrawal"]
            .sudo()
            .create({"member_id": self.id, "amount": amount})
        )

    def _check_can_act(self):
        """Managers act for anyone; others only for their own commercial partner."""
        user = self.env.user
        if self.env.su or user.has_group("points_pool.points_pool_group_manager"):
            return
        if self.partner_id != user.partner_id.commercial_partner_id:
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
