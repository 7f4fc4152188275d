"""Spending what members hold: repurchase credit and wallet money as a means of
payment (issue 11; SPEC 5 row "repurchase credit spent").

One use is one pool event: the member row locked, the balance checked by the
core (``core/credit.py``), one immutable ledger line (kind ``spend``), one
posted entry (Dr repurchase credit or wallet payable / Cr the customer's
receivable) reconciled with the invoice it pays.  A credit note of such an
invoice returns the same share of what was spent (kind ``spend_refund``: Dr
receivable / Cr credit), exactly once per credit note and fund.
"""

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..core import credit as credit_core
from ..core import money
from .points_pool import run_apart

SPEND_KINDS = ("spend", "spend_refund")


def spend_ledger_sums(env, res_model, res_ids):
    """The spend lines naming these documents, summed from the ledger: one
    query for the invoices (``account.move``) and the till (``pos.order``).

    :return: ``[(res_id, kind, member_id, credit, wallet)]``, the sums as text
        (``None`` when no line has that fund)
    """
    env["points.pool.move"].flush_model(
        ["kind", "credit", "wallet", "res_model", "res_id", "member_id"]
    )
    env.cr.execute(
        SQL(
            "SELECT res_id, kind, member_id, SUM(credit)::text, SUM(wallet)::text "
            "FROM points_pool_move WHERE kind IN %s AND res_model = %s "
            "AND res_id = ANY(%s) GROUP BY res_id, kind, member_id",
            SPEND_KINDS,
            res_model,
            list(res_ids),
        )
    )
    return env.cr.fetchall()


def create_spend_index(cr, name, res_model):
    """The partial index :func:`spend_ledger_sums` reads for ``res_model``
    documents (each source creates its own, in its ``init``)."""
    cr.execute(
        SQL(
            "CREATE INDEX IF NOT EXISTS %s ON points_pool_move (res_id) "
            "WHERE kind IN %s AND res_model = %s",
            SQL.identifier(name),
            SPEND_KINDS,
            res_model,
        )
    )


def _spend_error(env, error, currency, digits):
    values = {
        key: currency.format(money.to_float(value, digits))
        for key, value in error.values.items()
    }
    messages = {
        "not_positive": env._("The amount to pay must be positive."),
        "more_than_held": env._(
            "You cannot pay %(amount)s: only %(available)s is available."
        ),
        "more_than_due": env._(
            "You cannot pay %(amount)s: only %(residual)s is left to pay on this invoice."
        ),
    }
    return messages.get(error.code, error.code) % values


class PointsPool(models.Model):
    _inherit = "points.pool"

    wallet_payments = fields.Boolean(
        "Members pay with their wallet",
        tracking=True,
        help="Besides repurchase credit, members may pay invoices (and at the till) "
        "with their wallet money.",
    )
    credit_earns = fields.Selection(
        [("cash", "The part paid otherwise"), ("all", "The whole order")],
        "Points on orders paid with credit",
        default="cash",
        required=True,
        tracking=True,
        help="The part paid otherwise: an order paid partly with repurchase credit or "
        "wallet money earns points on the rest only (the credit came out of the pool: "
        "it does not fund the pool a second time). The whole order: every paid order "
        "earns in full, however it was paid.",
    )

    def _get_checkout_extra(self):
        return dict(super()._get_checkout_extra(), credit_earns=self.credit_earns)


class PointsMember(models.Model):
    _inherit = "points.member"

    credit_granted = fields.Monetary(
        compute="_compute_credit_figures",
        help="Repurchase credit from approved withdrawals.",
    )
    credit_spent = fields.Monetary(
        compute="_compute_credit_figures", help="Credit used to pay purchases."
    )
    credit_returned = fields.Monetary(
        compute="_compute_credit_figures",
        help="Credit given back by refunds of purchases paid with it.",
    )

    def _compute_credit_figures(self):
        """From the ledger: one grouped query for all the members shown."""
        figures = {}
        if self.ids:
            self.env["points.pool.move"].flush_model(["member_id", "kind", "credit"])
            self.env.cr.execute(
                SQL(
                    "SELECT member_id, kind, SUM(credit)::text FROM points_pool_move "
                    "WHERE member_id = ANY(%s) AND kind IN "
                    "('withdrawal', 'spend', 'spend_refund') AND credit != 0 "
                    "GROUP BY member_id, kind",
                    self.ids,
                )
            )
            for member_id, kind, total in self.env.cr.fetchall():
                figures[member_id, kind] = float(total)
        for member in self:
            member.credit_granted = figures.get((member.id, "withdrawal"), 0.0)
            member.credit_spent = -figures.get((member.id, "spend"), 0.0)
            member.credit_returned = figures.get((member.id, "spend_refund"), 0.0)

    def _spendable(self, fund):
        """What the member holds of ``fund`` now, minor units (rows locked by
        the caller: read from the database, not the cache)."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT credit_balance::text, wallet_balance::text, "
                "COALESCE(wallet_reserved, 0)::text FROM points_member WHERE id = %s",
                self.id,
            )
        )
        credit, wallet, reserved = self.env.cr.fetchone()
        digits = self.currency_id.decimal_places
        if fund == "credit":
            return money.to_minor(credit or 0, digits)
        return money.to_minor(wallet or 0, digits) - money.to_minor(reserved, digits)


class PointsPoolMove(models.Model):
    _inherit = "points.pool.move"

    def init(self):
        res = super().init()
        # what an invoice spent and got back (paid share, credit notes)
        create_spend_index(self.env.cr, "points_pool_move_spend_idx", "account.move")
        return res

    def _get_counterpart(self, pool, line, total):
        """Credits to book against the customer's receivable for spend lines."""
        res = super()._get_counterpart(pool, line, total)
        if line.kind in SPEND_KINDS:
            account = self._spend_receivable_account(line)
            return [(account, line.partner_id.commercial_partner_id.id, -total)]
        return res

    def _spend_receivable_account(self, line):
        """The receivable the use settles: the paid invoice's, else the
        customer's (a till's order)."""
        if line.res_model == "account.move" and line.res_id:
            move = self.env["account.move"].sudo().browse(line.res_id)
            account = move.line_ids.filtered(
                lambda aml: aml.account_type == "asset_receivable"
            )[:1].account_id
            if account:
                return account
        partner = line.partner_id.commercial_partner_id.with_company(line.company_id)
        return partner.property_account_receivable_id


class AccountMove(models.Model):
    _inherit = "account.move"

    points_spent = fields.Monetary(
        "Paid with points credit",
        compute="_compute_points_spent",
        currency_field="company_currency_id",
        help="Repurchase credit and wallet money used on this invoice, net of what "
        "its refunds returned.",
    )
    points_can_pay = fields.Boolean(compute="_compute_points_spent")

    def _compute_points_spent(self):
        spent = self._points_spend_totals()
        for move in self:
            totals = spent.get(move.id, {})
            digits = move.company_currency_id.decimal_places
            move.points_spent = money.to_float(
                sum(
                    totals.get((fund, "spend"), 0)
                    - totals.get((fund, "spend_refund"), 0)
                    for fund in credit_core.FUNDS
                ),
                digits,
            )
            move.points_can_pay = (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.payment_state not in ("paid", "in_payment", "reversed")
                and not move.currency_id.is_zero(move.amount_residual)
            )

    def _points_spend_totals(self):
        """``{invoice id: {(fund, kind): minor}}`` of the spend lines naming
        these invoices (amounts positive: used, returned)."""
        if not self.ids:
            return {}
        result = {}
        for move_id, kind, _member_id, credit, wallet in spend_ledger_sums(
            self.env, self._name, self.ids
        ):
            digits = self.browse(move_id).company_currency_id.decimal_places
            sign = -1 if kind == "spend" else 1
            totals = result.setdefault(move_id, {})
            for fund, total in (("credit", credit), ("wallet", wallet)):
                totals[fund, kind] = totals.get((fund, kind), 0) + sign * (
                    money.to_minor(total or 0, digits)
                )
        return result

    # ------------------------------------------------------------------
    # pay an invoice with credit (back office wizard, portal, RPC)
    # ------------------------------------------------------------------
    def action_points_pay(self, amount, fund="credit", idempotency_key=None):
        """Pay ``amount`` (major units) of this customer invoice with the
        customer's repurchase credit (``fund="credit"``) or wallet money
        (``"wallet"``, if the pool allows it).  A pool event of its own.

        :param idempotency_key: optional; a repeated key returns the first
            result and books nothing (README "Retries")
        :return: ``{"ledger_id", "amount", "residual", "payment_state"}``
        """
        self.ensure_one()
        self._points_pay_check_access()
        return run_apart(self, "_points_pay_result", amount, fund, idempotency_key)

    def _points_pay_check_access(self):
        """Back-office users who may register payments pay any customer's
        invoice; everyone else only through the portal's own check."""
        user = self.env.user
        if self.env.su or user.has_group("account.group_account_invoice"):
            return
        raise AccessError(
            _("Only invoicing users can pay invoices with a member's points credit.")
        )

    def _points_pay_result(self, amount, fund, idempotency_key=None):
        move = self.sudo()
        pool = move._points_pay_pool()

        def pay():
            return move._points_pay(amount, fund)

        return pool._call_once(
            idempotency_key,
            "account.move.action_points_pay",
            pay,
            lambda: move._points_pay_member(pool)._lock(),
        )

    def _points_pay_pool(self):
        pool = self.env["points.pool"].sudo()._get_company_pool(self.company_id)
        if not pool.active:
            raise UserError(_("The points programme is not active."))
        return pool

    def _points_pay_member(self, pool):
        partner = self.commercial_partner_id
        member = self.env["points.member"].sudo()._find(pool, partner)
        if not member:
            raise UserError(
                _("%s is not a member of the points programme.", partner.display_name)
            )
        return member

    def _points_pay(self, amount, fund):
        """Book the use, post its entry and reconcile it with the invoice."""
        self.ensure_one()
        if fund not in credit_core.FUNDS:
            raise UserError(_("Pay with repurchase credit or wallet money."))
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(_("Only posted customer invoices can be paid with credit."))
        pool = self._points_pay_pool()
        if fund == "wallet" and not pool.wallet_payments:
            raise UserError(_("This points programme does not accept wallet payments."))
        if self.currency_id != pool.currency_id:
            raise UserError(
                _("Only invoices in %s can be paid with credit.", pool.currency_id.name)
            )
        member = self._points_pay_member(pool)
        digits = pool.currency_id.decimal_places
        try:
            minor = money.parse_amount(amount, digits)
        except (TypeError, ValueError) as error:
            raise UserError(_("The amount must be a number.")) from error
        member._lock()
        self.env.cr.execute(
            SQL("SELECT id FROM account_move WHERE id = %s FOR NO KEY UPDATE", self.id)
        )
        self.invalidate_recordset(["amount_residual", "payment_state"])
        residual = money.round_minor(self.amount_residual, digits)
        try:
            credit_core.check_spend(minor, member._spendable(fund), residual)
        except credit_core.SpendError as error:
            raise UserError(
                _spend_error(self.env, error, pool.currency_id, digits)
            ) from error
        value = money.to_float(-minor, digits)
        line = pool._append_ledger(
            [
                {
                    "kind": "spend",
                    "member_id": member.id,
                    fund: value,
                    "gross": money.to_float(minor, digits),
                    "res_model": self._name,
                    "res_id": self.id,
                }
            ]
        )
        self._points_spend_post(line)
        self.message_post(
            body=_(
                "%(amount)s paid with %(fund)s of %(member)s (points pool ledger #%(number)s).",
                amount=pool.currency_id.format(money.to_float(minor, digits)),
                fund=_("repurchase credit") if fund == "credit" else _("wallet money"),
                member=member.partner_id.display_name,
                number=line.number,
            )
        )
        self.invalidate_recordset(["amount_residual", "payment_state"])
        return {
            "ledger_id": line.id,
            "amount": money.to_float(minor, digits),
            "residual": self.amount_residual,
            "payment_state": self.payment_state,
        }

    def _points_spend_post(self, line):
        """Post the line's entry now and reconcile its receivable line with
        this document's open receivable (the invoice, or the credit note)."""
        entry = line._post_accounting()
        receivable = entry.line_ids.filtered(
            lambda aml: aml.account_type == "asset_receivable"
        )
        open_lines = self.line_ids.filtered(
            lambda aml: aml.account_id in receivable.account_id and not aml.reconciled
        )
        if receivable and open_lines:
            (receivable | open_lines).reconcile()
        return entry

    # ------------------------------------------------------------------
    # credit notes: give back the credit share, exactly once
    # ------------------------------------------------------------------
    def _points_pool_refund_queued(self):
        """Credit notes to queue: those of invoices paid with credit too."""
        queued = super()._points_pool_refund_queued()
        invoices = self.reversed_entry_id
        spent = invoices._points_spend_totals()
        return queued | self.filtered(
            lambda move: any(spent.get(move.reversed_entry_id.id, {}).values())
        )

    def _points_pool_refund(self):
        for refund in self:
            refund._points_spend_return()
        return super()._points_pool_refund()

    def _points_spend_return(self):
        """Return to the member the share of credit (and wallet money) this
        posted credit note refunds of its invoice (``refund_return``): one
        ``spend_refund`` line per fund, key ``spend_refund:<note>:<fund>``."""
        self.ensure_one()
        invoice = self.reversed_entry_id
        if self.state != "posted" or not invoice:
            return self.env["points.pool.move"]
        totals = invoice._points_spend_totals().get(invoice.id)
        if not totals:
            return self.env["points.pool.move"]
        pool = invoice._points_pay_pool()
        digits = pool.currency_id.decimal_places
        member = invoice._points_pay_member(pool)
        earlier = invoice.reversal_move_ids.filtered(
            lambda note: note.state == "posted" and note.id < self.id
        )
        Move = self.env["points.pool.move"].sudo()
        lines = Move
        for fund in credit_core.FUNDS:
            key = f"spend_refund:{self.id}:{fund}"
            if Move.search_count([("idempotency_key", "=", key)], limit=1):
                continue
            amount = credit_core.refund_return(
                totals.get((fund, "spend"), 0),
                totals.get((fund, "spend_refund"), 0),
                sum(money.round_minor(note.amount_total, digits) for note in earlier),
                money.round_minor(self.amount_total, digits),
                money.round_minor(invoice.amount_total, digits),
            )
            if not amount:
                continue
            member._lock()
            line = pool._append_ledger(
                [
                    {
                        "kind": "spend_refund",
                        "member_id": member.id,
                        fund: money.to_float(amount, digits),
                        "gross": money.to_float(amount, digits),
                        "res_model": "account.move",
                        "res_id": invoice.id,
                        "idempotency_key": key,
                    }
                ]
            )
            self._points_spend_post(line)
            lines |= line
            self.message_post(
                body=_(
                    "%(amount)s returned to %(member)s as %(fund)s.",
                    amount=pool.currency_id.format(money.to_float(amount, digits)),
                    member=member.partner_id.display_name,
                    fund=_("repurchase credit")
                    if fund == "credit"
                    else _("wallet money"),
                )
            )
        return lines
