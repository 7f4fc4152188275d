from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..core import credit as credit_core
from ..core import money
from .points_pool import require_manager, run_apart

WITHDRAWAL_STATE_SELECTION = [
    ("requested", "Requested"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
]


class PointsWithdrawal(models.Model):
    """A member's request to take money out of the wallet (SPEC 2 and 5).

    On approval the wallet is debited by one ledger line, the cash share is
    paid by an outbound ``account.payment`` (Dr wallet payable / Cr outstanding
    payments) and the rest becomes repurchase credit (Dr wallet / Cr credit).
    """

    _name = "points.withdrawal"
    _description = "Wallet Withdrawal"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(readonly=True, copy=False, default="/")
    member_id = fields.Many2one(
        "points.member", required=True, index=True, readonly=True, check_company=True
    )
    partner_id = fields.Many2one(related="member_id.partner_id", store=True, index=True)
    pool_id = fields.Many2one(related="member_id.pool_id", store=True)
    company_id = fields.Many2one(related="member_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="member_id.currency_id")
    amount = fields.Monetary(required=True, readonly=True, tracking=True)
    cash_amount = fields.Monetary(readonly=True, copy=False)
    credit_amount = fields.Monetary("Repurchase credit", readonly=True, copy=False)
    frozen_amount = fields.Monetary(
        "Frozen",
        readonly=True,
        copy=False,
        help="Share kept frozen until the member's sales conditions hold.",
    )
    frozen_state = fields.Selection(
        [("frozen", "Frozen"), ("released", "Released")],
        readonly=True,
        copy=False,
        tracking=True,
    )
    release_line_id = fields.Many2one(
        "points.pool.move", readonly=True, copy=False, check_company=True
    )
    state = fields.Selection(
        WITHDRAWAL_STATE_SELECTION,
        default="requested",
        required=True,
        readonly=True,
        tracking=True,
    )
    date_approved = fields.Datetime(readonly=True, copy=False)
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    payment_id = fields.Many2one(
        "account.payment", readonly=True, copy=False, check_company=True
    )
    ledger_line_id = fields.Many2one(
        "points.pool.move", readonly=True, copy=False, check_company=True
    )
    reject_reason = fields.Char(readonly=True, tracking=True)

    _sql_constraints = [
        (
            "amount_positive",
            "CHECK(amount > 0)",
            "A withdrawal amount must be positive.",
        ),
    ]

    @api.constrains("amount", "member_id")
    def _check_amount(self):
        for withdrawal in self:
            if withdrawal.currency_id.compare_amounts(withdrawal.amount, 0) <= 0:
                raise ValidationError(_("A withdrawal amount must be positive."))

    #: every field that moves or records money: written only by the model's
    #: own operations (as superuser), never by a user's write
    _PROTECTED_FIELDS = frozenset(
        {
            "name",
            "member_id",
            "amount",
            "cash_amount",
            "credit_amount",
            "frozen_amount",
            "frozen_state",
            "release_line_id",
            "state",
            "date_approved",
            "approved_by_id",
            "payment_id",
            "ledger_line_id",
            "reject_reason",
        }
    )

    @api.model_create_multi
    def create(self, vals_list):
        """A request: a member and an amount, reserved on the member's wallet
        in the same statement that checks it (README "Concurrency")."""
        for vals in vals_list:
            if not self.env.su and set(vals) - {"member_id", "amount"}:
                raise UserError(
                    _("A withdrawal request has a member and an amount, nothing else.")
                )
            member = self.env["points.member"].browse(vals.get("member_id")).exists()
            if not member:
                raise UserError(_("A withdrawal request needs a member."))
            # pool users and portal users ask for their own wallet only
            member._check_can_act()
            member = member.sudo()
            digits = member.currency_id.decimal_places
            try:
                minor = money.parse_amount(vals.get("amount") or 0, digits)
            except ValueError as error:
                raise UserError(_("The amount must be a number.")) from error
            if minor <= 0:
                raise UserError(_("A withdrawal amount must be positive."))
            if not member._reserve_wallet(money.to_decimal(minor, digits)):
                raise UserError(
                    _(
                        "You cannot withdraw %(amount)s: the wallet has %(available)s available.",
                        amount=member.currency_id.format(money.to_float(minor, digits)),
                        available=member.currency_id.format(member.wallet_available),
                    )
                )
            vals["amount"] = money.to_float(minor, digits)
            vals["name"] = (
                self.env["ir.sequence"].sudo().next_by_code("points.withdrawal") or "/"
            )
        return super(PointsWithdrawal, self.sudo()).create(vals_list).with_env(self.env)

    def write(self, vals):
        if not self.env.su and self._PROTECTED_FIELDS & set(vals):
            raise UserError(
                _(
                    "A withdrawal's member, amount, state and frozen share change only "
                    "through its own operations (approve, reject, cancel)."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_approved(self):
        if any(withdrawal.state == "approved" for withdrawal in self):
            raise UserError(_("An approved withdrawal cannot be deleted."))

    def _lock_requested(self):
        """Lock the rows and refuse any that is no longer requested."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id, state FROM points_withdrawal WHERE id IN %s FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )
        if any(state != "requested" for _id, state in self.env.cr.fetchall()):
            raise UserError(
                _("Only requested withdrawals can be approved, rejected or cancelled.")
            )
        self.invalidate_recordset(["state"])

    def action_approve(self, idempotency_key=None):
        """Debit the wallet, pay the cash share, book the repurchase credit.

        A pool event of its own (README "Concurrency").
        :param idempotency_key: optional; a repeated key returns the first
            result and books nothing (README "Retries")
        :return: True; a second approval raises a ``UserError`` and changes nothing
        """
        require_manager(
            self.env, _("Only a points pool manager can approve withdrawals.")
        )
        return run_apart(self, "_approve_result", idempotency_key)

    def _approve_result(self, idempotency_key=None):
        pools = self.sudo().pool_id

        def approve():
            self._lock_requested()
            for withdrawal in self:
                withdrawal._approve()
            return True

        pools.ensure_one()
        return pools._call_once(
            idempotency_key,
            "points.withdrawal.action_approve",
            approve,
            self._lock_rows,
        )

    def _lock_rows(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_withdrawal WHERE id IN %s FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )

    def _approve(self):
        self.ensure_one()
        member = self.member_id.sudo()
        pool = member.pool_id
        member._lock()
        member.invalidate_recordset(["wallet_balance"])
        if self.currency_id.compare_amounts(self.amount, member.wallet_balance) > 0:
            raise UserError(
                _(
                    "The wallet of %(member)s holds %(balance)s, less than %(amount)s.",
                    member=member.partner_id.display_name,
                    balance=self.currency_id.format(member.wallet_balance),
                    amount=self.currency_id.format(self.amount),
                )
            )
        digits = self.currency_id.decimal_places
        amount = money.round_minor(self.amount, digits)
        freeze = 0
        if pool.freeze_share and member.id not in member._freeze_conditions_met():
            freeze = money.percent(pool.freeze_share)
        cash, credit, frozen = credit_core.withdrawal_split(
            amount, money.percent(pool.cash_share), freeze
        )
        # the payment first: the pool row is locked last, for the ledger line only
        payment = self.env["account.payment"]
        if cash:
            journal = pool._get_bank_journal()
            if not journal:
                raise UserError(_("Configure a bank journal to pay withdrawals."))
            payment = (
                self.env["account.payment"]
                .sudo()
                .with_company(pool.company_id)
                .create(
                    {
                        "payment_type": "outbound",
                        "partner_type": "supplier",
                        "partner_id": member.partner_id.id,
                        "amount": money.to_float(cash, digits),
                        "currency_id": pool.currency_id.id,
                        "journal_id": journal.id,
                        "payment_method_line_id": journal.outbound_payment_method_line_ids[
                            :1
                        ].id,
                        "destination_account_id": pool.wallet_account_id.id,
                        "memo": self.name,
                    }
                )
            )
            payment.action_post()
        line = pool._append_ledger(
            [
                {
                    "kind": "withdrawal",
                    "member_id": member.id,
                    "withdrawal_id": self.id,
                    "wallet": -money.to_float(amount, digits),
                    "credit": money.to_float(credit, digits),
                    "frozen": money.to_float(frozen, digits),
                    "res_model": self._name,
                    "res_id": self.id,
                    "idempotency_key": f"withdrawal:{self.id}",
                }
            ]
        )
        pool._journalize(line)
        member._unreserve_wallet({member.id: money.to_decimal(amount, digits)})
        self.sudo().write(
            {
                "state": "approved",
                "cash_amount": money.to_float(cash, digits),
                "credit_amount": money.to_float(credit, digits),
                "frozen_amount": money.to_float(frozen, digits),
                "frozen_state": "frozen" if frozen else False,
                "date_approved": fields.Datetime.now(),
                "approved_by_id": self.env.uid,
                "payment_id": payment.id,
                "ledger_line_id": line.id,
            }
        )
        self.message_post(
            body=_(
                "Approved: %(cash)s paid, %(credit)s as repurchase credit, %(frozen)s "
                "frozen.",
                cash=self.currency_id.format(self.cash_amount),
                credit=self.currency_id.format(self.credit_amount),
                frozen=self.currency_id.format(self.frozen_amount),
            )
        )

    @api.model
    def _release_frozen(self, pool):
        """Release the frozen shares of members whose conditions now hold:
        one ``unfreeze`` ledger line per member back into the wallet."""
        withdrawals = self.sudo().search(
            [("pool_id", "=", pool.id), ("frozen_state", "=", "frozen")]
        )
        if not withdrawals:
            return self
        met = withdrawals.member_id._freeze_conditions_met()
        withdrawals = withdrawals.filtered(lambda w: w.member_id.id in met)
        if not withdrawals:
            return self
        digits = pool.currency_id.decimal_places
        pool._lock_state()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_withdrawal WHERE id IN %s AND frozen_state = 'frozen' "
                "FOR NO KEY UPDATE",
                tuple(withdrawals.ids),
            )
        )
        withdrawals = self.browse([row[0] for row in self.env.cr.fetchall()])
        withdrawals.invalidate_recordset()
        by_member = {}
        for withdrawal in withdrawals:
            by_member.setdefault(withdrawal.member_id, self.browse())
            by_member[withdrawal.member_id] |= withdrawal
        vals_list = []
        for member, group in sorted(by_member.items(), key=lambda item: item[0].id):
            # what the withdrawals' own ledger lines froze, never a stored field
            amount = sum(
                money.round_minor(w.ledger_line_id.frozen, digits) for w in group
            )
            if amount <= 0:
                continue
            vals_list.append(
                {
                    "kind": "unfreeze",
                    "member_id": member.id,
                    "wallet": money.to_float(amount, digits),
                    "frozen": -money.to_float(amount, digits),
                    "res_model": self._name,
                    "res_id": group[:1].id,
                }
            )
        if not vals_list:
            return self
        lines = pool._append_ledger(vals_list)
        pool._journalize(lines)
        line_of = {line.member_id: line for line in lines}
        for member, group in by_member.items():
            if member not in line_of:
                continue
            group.sudo().write(
                {"frozen_state": "released", "release_line_id": line_of[member].id}
            )
            for withdrawal in group:
                withdrawal.message_post(
                    body=_(
                        "The frozen share returned to the wallet: the conditions hold."
                    )
                )
        return withdrawals

    def action_reject(self, reason=None):
        require_manager(
            self.env, _("Only a points pool manager can reject withdrawals.")
        )
        self._lock_requested()
        self._unreserve()
        self.sudo().write({"state": "rejected", "reject_reason": reason or False})
        return True

    def action_cancel(self):
        """Cancel requested withdrawals (the member or a manager; RPC and portal)."""
        for withdrawal in self:
            withdrawal.member_id._check_can_act()
        self.sudo()._lock_requested()
        self.sudo()._unreserve()
        self.sudo().write({"state": "cancelled"})
        return True

    def _unreserve(self):
        """Give the reserved amounts of these requests back to the wallets."""
        amounts = {}
        for withdrawal in self.sudo():
            digits = withdrawal.currency_id.decimal_places
            amounts[withdrawal.member_id.id] = amounts.get(
                withdrawal.member_id.id, 0
            ) + money.to_decimal(money.round_minor(withdrawal.amount, digits), digits)
        self.env["points.member"].sudo()._unreserve_wallet(amounts)
