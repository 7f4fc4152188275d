from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_round

from ..core import ledger, money

#: the kinds of :mod:`..core.ledger` (another addon adds one there and with
#: ``selection_add`` on ``kind``)
LEDGER_KIND_SELECTION = ledger.selection()

# fields that may be filled once after insertion, by the posting job
_WRITE_ONCE = {"account_move_id", "number"}


class PointsPoolMove(models.Model):
    """The pool's ledger: one immutable, numbered line per event (SPEC 2).

    Deltas are signed: ``fund`` (P), ``reserve`` (Z), ``pending``, ``points``
    (S), ``wallet`` and ``credit`` (the member's balances).  Each line names its
    source document (``res_model``/``res_id``) and, once journalized, its entry.
    Corrections are new lines; nothing is updated or deleted.
    """

    _name = "points.pool.move"
    _description = "Points Pool Ledger Line"
    _order = "id desc"
    _rec_name = "number"
    _check_company_auto = True

    number = fields.Integer(
        readonly=True, default=0, help="Contiguous per pool; 0 until journalized."
    )
    date = fields.Datetime(
        default=fields.Datetime.now, required=True, readonly=True, index=True
    )
    pool_id = fields.Many2one(
        "points.pool", required=True, index=True, readonly=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    kind = fields.Selection(
        LEDGER_KIND_SELECTION, required=True, readonly=True, index=True
    )
    member_id = fields.Many2one(
        "points.member", index=True, readonly=True, check_company=True
    )
    partner_id = fields.Many2one(related="member_id.partner_id", store=True, index=True)
    lot_id = fields.Many2one(
        "points.lot", index="btree_not_null", readonly=True, check_company=True
    )
    withdrawal_id = fields.Many2one(
        "points.withdrawal", index="btree_not_null", readonly=True, check_company=True
    )
    points = fields.Float("Δ Points", digits="Points", readonly=True)
    fund = fields.Monetary("Δ Fund", readonly=True)
    reserve = fields.Monetary("Δ Reserve", readonly=True)
    pending = fields.Monetary("Δ Pending", readonly=True)
    wallet = fields.Monetary("Δ Wallet", readonly=True)
    credit = fields.Monetary("Δ Credit", readonly=True)
    frozen = fields.Monetary(
        "Δ Frozen", readonly=True, help="Share of a withdrawal kept frozen (SPEC 4)."
    )
    gross = fields.Monetary(
        readonly=True,
        help="Gross value of a sale or exit; released amount of a refund.",
    )
    price_before = fields.Float(digits="Points Price", readonly=True)
    price_after = fields.Float(digits="Points Price", readonly=True, aggregator="max")
    res_model = fields.Char("Source model", readonly=True, index=True)
    res_id = fields.Many2oneReference(
        "Source record", model_field="res_model", readonly=True
    )
    source_display = fields.Char("Source", compute="_compute_source_display")
    idempotency_key = fields.Char(readonly=True, copy=False)
    detail = fields.Text(readonly=True)
    account_move_id = fields.Many2one(
        "account.move",
        "Journal entry",
        readonly=True,
        index="btree_not_null",
        check_company=True,
    )

    _sql_constraints = [
        (
            "idempotency_key_unique",
            "UNIQUE(idempotency_key)",
            "This event was already booked.",
        ),
    ]

    def init(self):
        # pending lines get their number (0 until then) when journalized
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS points_pool_move_number_uniq "
            "ON points_pool_move (pool_id, number) WHERE number > 0"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_pool_move_unnumbered_idx "
            "ON points_pool_move (pool_id, id) WHERE number = 0"
        )

    @api.model
    def _price_label(self, price):
        """The price a ledger line shows: the exact price rounded as the ORM
        stores ``price_before``/``price_after`` (SQL writes use the same), so
        labels along the ledger follow the price and never go down."""
        digits = self._fields["price_after"].get_digits(self.env)[1]
        return float_round(float(money.ceil_decimal(price)), precision_digits=digits)

    def _compute_source_display(self):
        for line in self:
            record = (
                line.res_model
                and line.res_id
                and self.env[line.res_model].browse(line.res_id)
            )
            line.source_display = record.exists().display_name if record else False

    def write(self, vals):
        if set(vals) - _WRITE_ONCE or any(
            line[name] for line in self for name in vals if name in _WRITE_ONCE
        ):
            raise UserError(_("Ledger lines are immutable; book a correction instead."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_immutable(self):
        raise UserError(_("Ledger lines are immutable and cannot be deleted."))

    def action_open_source(self):
        self.ensure_one()
        if not (self.res_model and self.res_id):
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # accounting (SPEC section 5)
    # ------------------------------------------------------------------
    @api.model
    def _needs_entry_sql(self):
        """SQL condition on ``points_pool_move``: the line moves money, so an
        entry must book it (a withdrawal's wallet part is booked by its
        payment; a line worth 0.00 books nothing) - the rule of the posting
        job and of the reconciliation alike."""
        return SQL(
            "(COALESCE(fund, 0) != 0 OR COALESCE(reserve, 0) != 0 "
            "OR COALESCE(pending, 0) != 0 OR COALESCE(credit, 0) != 0 "
            "OR COALESCE(frozen, 0) != 0 "
            "OR (kind != ALL(%s) AND COALESCE(wallet, 0) != 0))",
            list(ledger.codes(wallet_by_payment=True)),
        )

    def _get_account_deltas(self, pool):
        """Signed credit amounts per (account, partner, kind) for these lines.

        Liabilities are credited by their deltas; the custody bank holds
        ``fund + reserve`` and the operating bank the other side; whatever
        liabilities do not balance goes to the revenue contra (orders and
        refunds) or the injection account.  A withdrawal books only its credit
        part here: its cash part is the outbound payment's own entry.
        """
        digits = pool.currency_id.decimal_places

        def minor(value):
            return money.round_minor(value, digits)

        credits = defaultdict(int)  # minor units: no float sums
        bank = None  # looked up once, only if cash moves
        for line in self:
            partner = line.partner_id.id or False
            fund, reserve, credit, frozen = (
                minor(line.fund),
                minor(line.reserve),
                minor(line.credit),
                minor(line.frozen),
            )
            # a withdrawal's cash part is the outbound payment's own entry
            wallet = (
                -credit - frozen
                if ledger.KINDS[line.kind].wallet_by_payment
                else minor(line.wallet)
            )
            liabilities = [
                (pool.pool_account_id, fund, False),
                (pool.reserve_account_id, reserve, False),
                (pool.pending_account_id, minor(line.pending), False),
                (pool.wallet_account_id, wallet, partner),
                (pool.credit_account_id, credit, partner),
                (pool.commission_frozen_account_id, frozen, partner),
            ]
            total = 0
            for account, amount, account_partner in liabilities:
                if amount:
                    credits[account, account_partner, line.kind] += amount
                    total += amount
            custody = fund + reserve
            if custody:
                credits[pool.custody_account_id, False, line.kind] -= custody
                bank = bank or pool._get_bank_account()
                credits[bank, False, line.kind] += custody
            for account, account_partner, amount in self._get_counterpart(
                pool, line, total
            ):
                credits[account, account_partner, line.kind] += amount
        return credits

    def _get_counterpart(self, pool, line, total):
        """``[(account, partner, signed credit)]`` balancing ``total``, the
        liabilities a line credits (its kind decides the account)."""
        counterpart = ledger.KINDS[line.kind].counterpart
        if counterpart == ledger.INJECTION and pool.injection_account == "expense":
            return [(pool.injection_account_id, False, -total)]
        if counterpart:  # CONTRA, or an injection booked as revenue contra
            return [(pool.contra_account_id, False, -total)]
        return []

    def _prepare_account_move_vals(self, pool, ref):
        digits = pool.currency_id.decimal_places
        line_vals = []
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for (account, partner, kind), minor_amount in sorted(
            self._get_account_deltas(pool).items(),
            key=lambda item: (item[0][2], item[0][0].code or "", item[0][1] or 0),
        ):
            if not minor_amount:
                continue
            amount = money.to_float(minor_amount, digits)
            line_vals.append(
                Command.create(
                    {
                        "account_id": account.id,
                        "partner_id": partner,
                        "name": f"{kinds[kind]} - {ref}",
                        "balance": -amount,
                        # no analytic model search per partner line (cascades)
                        "analytic_distribution": False,
                    }
                )
            )
        if not line_vals:
            return None
        return {
            "move_type": "entry",
            "journal_id": pool.journal_id.id,
            "company_id": pool.company_id.id,
            "date": fields.Date.context_today(self),
            "ref": ref,
            "line_ids": line_vals,
        }

    def _get_move_ref(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        first = self.sorted("number")[:1]
        sources = {(line.res_model, line.res_id) for line in self if line.res_model}
        label = ", ".join(sorted({kinds[line.kind] for line in self}))
        if len(sources) == 1 and first.source_display:
            label = f"{label} - {first.source_display}"
        numbers = self.mapped("number")
        if numbers:
            label = (
                f"{label} (#{min(numbers)}-{max(numbers)})"
                if len(numbers) > 1
                else f"{label} (#{numbers[0]})"
            )
        return label

    def _post_accounting(self):
        """Post one balanced entry for these lines (one pool operation)."""
        # commission lines are booked by the Commissions journal's own entry
        to_post = self.filtered(
            lambda line: (
                ledger.KINDS[line.kind].posted_by == ledger.POOL
                and not line.account_move_id
            )
        )
        if not to_post:
            return self.env["account.move"]
        pool = to_post.pool_id
        pool.ensure_one()
        vals = to_post._prepare_account_move_vals(pool, to_post._get_move_ref())
        if not vals:
            return self.env["account.move"]
        move = self.env["account.move"].sudo().create(vals)
        move.action_post()
        to_post.sudo().write({"account_move_id": move.id})
        return move
