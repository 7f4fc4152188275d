"""Points credit at the till (issue 11): a payment method that spends the
customer's repurchase credit.

At the paid step of the sync, exactly once per order uuid, under the member's
row lock: one ``spend`` ledger line for the amount paid with points credit
(key ``spend:pos.order:<uuid>``); a refund of an order paid with credit gives
back the same share of it (``credit_core.refund_return``), one
``spend_refund`` line (``spend_refund:pos.order:<refund uuid>``).  The till
never takes the pool lock: the lines are inserted unnumbered (number 0, as the
pending lines of orders) and the member's balance changes at once; the next
pool event numbers and journalizes them (Dr repurchase credit / Cr the
customer's receivable).  Closing the session debits that same receivable for
the points-credit payments (a method without journal that identifies the
customer); the two are reconciled as soon as both are posted.
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.points_pool.core import credit as credit_core
from odoo.addons.points_pool.core import money
from odoo.addons.points_pool.models.points_spend import (
    SPEND_KINDS,
    create_spend_index,
    spend_ledger_sums,
)

#: the states of an order whose refund lines count as refunded
_DONE_STATES = ("paid", "done", "invoiced")


def _spend_key(uuid):
    return f"spend:pos.order:{uuid}"


def _return_key(uuid, index, original):
    """``spend_refund:pos.order:<refund uuid>``; a refund of several orders
    paid with credit: one line per order (``…:<original id>`` after the first)."""
    key = f"spend_refund:pos.order:{uuid}"
    return key if not index else f"{key}:{original.id}"


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _points_credit_paid(self):
        """What this order paid with points-credit methods, signed minor units."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        return sum(
            money.round_minor(payment.amount, digits)
            for payment in self.payment_ids
            if payment.payment_method_id.points_credit
        )

    def _points_credit_totals(self, originals):
        """``{order id: {"spend", "spend_refund", "member_id"}}``: the credit
        spent on ``originals`` and given back by their refunds (minor units,
        positive), from the ledger."""
        if not originals:
            return {}
        result = {}
        for order_id, kind, member_id, total, _wallet in spend_ledger_sums(
            self.env, self._name, originals.ids
        ):
            digits = self.browse(order_id).currency_id.decimal_places
            totals = result.setdefault(
                order_id, {"spend": 0, "spend_refund": 0, "member_id": member_id}
            )
            sign = -1 if kind == "spend" else 1
            totals[kind] += sign * money.to_minor(total or 0, digits)
        return result

    @api.model
    def _points_credit_returns(self, refunded, totals, before_id=None):
        """What refunds of ``refunded`` (``{original order: minor refunded, tax
        included}``) give back of the credit spent on them: the same share of
        the credit as of the order, cumulatively (``refund_return``).

        :param before_id: count the refunds of the originals with a smaller id
            (the refund being synced); ``None``: all of them (an estimate)
        :return: ``{original order: minor}``
        """
        result = {}
        for original, amount in refunded.items():
            spent = totals.get(original.id)
            if not spent or not spent["spend"]:
                continue
            digits = original.currency_id.decimal_places
            earlier = original.lines.refund_orderline_ids.filtered(
                lambda line: (
                    line.order_id.state in _DONE_STATES
                    and (before_id is None or line.order_id.id < before_id)
                )
            )
            value = credit_core.refund_return(
                spent["spend"],
                spent["spend_refund"],
                abs(
                    sum(
                        money.round_minor(line.price_subtotal_incl, digits)
                        for line in earlier
                    )
                ),
                amount,
                money.round_minor(original.amount_total, digits),
            )
            if value:
                result[original] = value
        return result

    def _points_credit_refunded(self):
        """``{original order: minor}`` this order refunds (tax included)."""
        self.ensure_one()
        digits = self.currency_id.decimal_places
        refunded = {}
        for line in self.lines.filtered("refunded_orderline_id"):
            original = line.refunded_orderline_id.order_id
            refunded[original] = refunded.get(original, 0) + money.round_minor(
                line.price_subtotal_incl, digits
            )
        return {
            original: abs(amount)
            for original, amount in sorted(refunded.items(), key=lambda i: i[0].id)
        }

    def _points_credit_book(self):
        """At the paid step: book what these orders spent of their customer's
        repurchase credit and what their refund lines give back of it."""
        for order in self.filtered(
            lambda o: (
                o.lines.refunded_orderline_id
                or any(p.payment_method_id.points_credit for p in o.payment_ids)
            )
        ):
            order._points_credit_book_one()

    def _points_credit_member(self, pool):
        partner = self.partner_id.commercial_partner_id
        if not partner:
            raise UserError(
                _(
                    "Order %s is paid with points credit: set its customer, a member "
                    "of the points programme.",
                    self.name,
                )
            )
        member = self.env["points.member"].sudo()._find(pool, partner)
        if not member:
            raise UserError(
                _(
                    "%s is not a member of the points programme: the order cannot be "
                    "paid with points credit.",
                    partner.display_name,
                )
            )
        return member

    def _points_credit_pool(self):
        """The company's active pool and its currency's digits, or raise."""
        Pool = self.env["points.pool"].sudo()
        config = Pool._get_checkout_config(self.company_id.id)
        if config is None:
            Pool._get_company_pool(self.company_id)
            config = Pool._get_checkout_config(self.company_id.id)
        if not config["active"]:
            raise UserError(
                _(
                    "The points programme is not active: order %s cannot use points "
                    "credit.",
                    self.name,
                )
            )
        return Pool.browse(config["pool_id"]), config["digits"]

    def _points_credit_spend_error(self, error, member, fmt):
        values = {key: fmt(value) for key, value in error.values.items()}
        if error.code == "more_than_held":
            return _(
                "%(customer)s cannot pay %(amount)s with points credit: only "
                "%(available)s is available.",
                customer=member.partner_id.display_name,
                **values,
            )
        if error.code == "more_than_due":
            return _(
                "%(amount)s of points credit is more than order %(order)s "
                "(%(residual)s).",
                order=self.name,
                **values,
            )
        return _("The amount to pay must be positive.")

    def _points_credit_book_one(self):
        self.ensure_one()
        paid = self._points_credit_paid()
        refunded = self._points_credit_refunded()
        totals = self._points_credit_totals(
            self.env["pos.order"].union(*refunded) if refunded else self.browse()
        )
        if not paid and not any(t["spend"] for t in totals.values()):
            return
        pool, digits = self._points_credit_pool()
        currency = pool.currency_id
        if self.currency_id != currency:
            raise UserError(
                _("Only orders in %s can be paid with points credit.", currency.name)
            )
        member = self._points_credit_member(pool)
        for spent in totals.values():
            if spent["spend"] and spent["member_id"] != member.id:
                raise UserError(
                    _(
                        "Order %s refunds an order paid with another member's points "
                        "credit: refund it to that customer.",
                        self.name,
                    )
                )
        member._lock()
        keys = [_spend_key(self.uuid)] + [
            _return_key(self.uuid, index, original)
            for index, original in enumerate(refunded)
        ]
        Move = self.env["points.pool.move"].sudo()
        if Move.search_count([("idempotency_key", "in", keys)], limit=1):
            return  # this uuid was booked already (a replay, a duplicate)
        # under the lock: what was spent and given back so far
        totals = self._points_credit_totals(
            self.env["pos.order"].union(*refunded) if refunded else self.browse()
        )
        returns = self._points_credit_returns(refunded, totals, before_id=self.id)
        given = sum(returns.values())
        used = paid + given  # the credit this order spends, net of what it gives back
        sold = (
            money.round_minor(self.amount_total, digits)
            if not refunded
            else sum(
                money.round_minor(line.price_subtotal_incl, digits)
                for line in self.lines.filtered(
                    lambda line: not line.refunded_orderline_id
                )
            )
        )

        def fmt(minor):
            return currency.format(money.to_float(minor, digits))

        if given and (used < 0 or used > max(sold, 0)):
            raise UserError(
                _(
                    "Order %(order)s gives back %(expected)s of points credit (the share "
                    "of the refunded order paid with it): refund exactly that with the "
                    "points credit payment method, not %(paid)s.",
                    order=self.name,
                    expected=fmt(given),
                    paid=fmt(-paid),
                )
            )
        if used < 0:
            raise UserError(
                _(
                    "Order %s gives back no points credit (nothing paid with it is "
                    "left to return): refund it with another payment method.",
                    self.name,
                )
            )
        if used > 0:
            try:
                credit_core.check_spend(
                    used, member._spendable("credit") + given, max(sold, 0)
                )
            except credit_core.SpendError as error:
                raise UserError(
                    self._points_credit_spend_error(error, member, fmt)
                ) from error
        # one line per refunded order, its key in the order of ``refunded``
        rows = [
            ("spend_refund", returns[original], original.id, key)
            for original, key in zip(refunded, keys[1:], strict=True)
            if returns.get(original)
        ]
        if used > 0:
            rows.append(("spend", -used, self.id, keys[0]))
        if rows:
            self._points_credit_insert(pool, member, rows, digits)

    def _points_credit_insert(self, pool, member, rows, digits):
        """Insert the lines unnumbered (the next pool event numbers and
        journalizes them) and apply them to the member at once; a key already
        booked inserts nothing.

        :param rows: ``[(kind, signed credit in minor units, order id, key)]``
        """
        now = fields.Datetime.now()
        values = SQL(", ").join(
            SQL(
                "(%s, %s::numeric, %s::numeric, %s::int, %s::varchar)",
                kind,
                money.to_decimal(credit, digits),
                money.to_decimal(abs(credit), digits),
                res_id,
                key,
            )
            for kind, credit, res_id, key in rows
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO points_pool_move (pool_id, company_id, kind, number, date,
                    member_id, partner_id, points, fund, reserve, pending, wallet, credit,
                    frozen, gross, price_before, price_after, res_model, res_id,
                    idempotency_key, create_uid, create_date, write_uid, write_date)
                SELECT %(pool)s, %(company)s, v.kind, 0, %(now)s, %(member)s, %(partner)s,
                       0, 0, 0, 0, 0, v.credit, 0, v.gross, 0, 0, 'pos.order', v.res_id,
                       v.key, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (VALUES %(values)s) AS v(kind, credit, gross, res_id, key)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id, credit::text
                """,
                pool=pool.id,
                company=pool.company_id.id,
                now=now,
                member=member.id,
                partner=member.partner_id.id,
                values=values,
                uid=self.env.uid,
            )
        )
        inserted = self.env.cr.fetchall()
        if inserted:
            delta = sum(money.to_minor(credit, digits) for _id, credit in inserted)
            self.env["points.member"]._apply_deltas(
                {member.id: [0, 0, delta, 0]}, digits
            )
        return self.env["points.pool.move"].sudo().browse([row[0] for row in inserted])

    # ------------------------------------------------------------------
    # the customer's receivable: the session's debit against the credit spent
    # ------------------------------------------------------------------
    def _points_credit_reconcile(self):
        """Reconcile the receivable lines of these orders' points-credit
        entries with what the orders left open on the customers' receivables
        for it: their invoices' receivable, else the session entries' lines of
        the points-credit methods.  Once both are posted (journalizing the
        ledger lines, closing the session: whichever comes last); per customer
        and account, all these orders at once (an entry of the pool sums a
        customer's lines of one event)."""
        orders = self.sudo()
        if not orders:
            return
        uuids = set(orders.mapped("uuid"))
        ledger = (
            self.env["points.pool.move"]
            .sudo()
            .search(
                [
                    ("kind", "in", SPEND_KINDS),
                    ("res_model", "=", "pos.order"),
                    ("res_id", "in", (orders | orders.refunded_order_id).ids),
                ]
            )
            .filtered(
                lambda line: (
                    line.idempotency_key and line.idempotency_key.split(":")[2] in uuids
                )
            )
        )
        entries = ledger.account_move_id.filtered(lambda m: m.state == "posted")
        if not entries:
            return
        partners = orders.partner_id.commercial_partner_id

        def open_receivable(lines):
            return lines.filtered(
                lambda aml: (
                    aml.account_type == "asset_receivable"
                    and aml.partner_id in partners
                    and not aml.reconciled
                )
            )

        spent = open_receivable(entries.line_ids)
        if not spent:
            return
        counterparts = open_receivable(orders.account_move.line_ids)
        for session in orders.filtered(lambda o: not o.account_move).session_id:
            if session.move_id.state != "posted":
                continue
            names = {
                f"{session.name} - {method.name}"
                for method in orders.payment_ids.payment_method_id
                if method.points_credit
            }
            counterparts |= open_receivable(session.move_id.line_ids).filtered(
                lambda aml, n=names: aml.name in n
            )
        groups = {}
        for aml in spent | counterparts:
            key = (aml.account_id, aml.partner_id)
            groups[key] = groups.get(key, aml.browse()) | aml
        for (account, _partner), lines in groups.items():
            balances = lines.mapped("balance")
            if (
                account.reconcile
                and any(b > 0 for b in balances)
                and any(b < 0 for b in balances)
                and lines & spent
            ):
                lines.reconcile()

    # ------------------------------------------------------------------
    # what the till shows (RPC, when the cashier picks the method)
    # ------------------------------------------------------------------
    @api.model
    def points_pool_pos_credit(self, config_id, partner_id, refund_lines=None):
        """The customer's repurchase credit, and what a refund of these lines
        gives back of the credit spent on the refunded orders (the till
        defaults the points-credit payment to it; the sync checks it).

        :param refund_lines: ``[{"refunded_orderline_id", "price_subtotal_incl"}]``
        :return: ``points.pool._pos_member_values`` and ``"refund"``,
            ``"refund_display"``
        """
        self.env["res.partner"]._points_pool_check_pos_user()
        config = self.env["pos.config"].browse(int(config_id)).exists()
        partner = (
            self.env["res.partner"].browse(int(partner_id)).exists()
            if partner_id
            else self.env["res.partner"]
        )
        if not config or not partner:
            return {"member": False, "credit": 0.0, "refund": 0.0}
        pool = (
            self.env["points.pool"]
            .sudo()
            .search([("company_id", "=", config.company_id.id)], limit=1)
        )
        if not pool:
            return {"member": False, "credit": 0.0, "refund": 0.0}
        member = (
            self.env["points.member"]
            .sudo()
            .search(
                [
                    ("pool_id", "=", pool.id),
                    ("partner_id", "=", partner.commercial_partner_id.id),
                ],
                limit=1,
            )
        )
        values = pool._pos_member_values(partner, member)
        digits = pool.currency_id.decimal_places
        refunded = {}
        Line = self.env["pos.order.line"].sudo()
        for row in refund_lines or []:
            try:
                line = Line.browse(int(row.get("refunded_orderline_id") or 0)).exists()
                amount = money.parse_amount(row.get("price_subtotal_incl") or 0, digits)
            except (TypeError, ValueError, AttributeError):
                continue
            if line:
                original = line.order_id
                refunded[original] = refunded.get(original, 0) + amount
        refunded = {o: abs(a) for o, a in refunded.items() if o.partner_id}
        originals = self.env["pos.order"].sudo().union(*refunded)
        returns = (
            self.sudo()._points_credit_returns(
                refunded, self.sudo()._points_credit_totals(originals)
            )
            if refunded
            else {}
        )
        refund = money.to_float(sum(returns.values()), digits)
        values.update(refund=refund, refund_display=pool.currency_id.format(refund))
        return values


class PosSession(models.Model):
    _inherit = "pos.session"

    def _reconcile_account_move_lines(self, data):
        """The session's debits of the customers' receivables for points
        credit, against the credit spent already journalized."""
        data = super()._reconcile_account_move_lines(data)
        orders = self._get_closed_orders().filtered(
            lambda o: any(p.payment_method_id.points_credit for p in o.payment_ids)
        )
        if orders:
            orders._points_credit_reconcile()
        return data


class PointsPoolMove(models.Model):
    _inherit = "points.pool.move"

    def init(self):
        res = super().init()
        # what a POS order spent and got back (refunds, replays)
        create_spend_index(self.env.cr, "points_pool_move_pos_spend_idx", "pos.order")
        return res

    def _post_accounting(self):
        """Journalizing a till's credit spent: reconcile it with the session's
        debit of the customer (or the order's invoice) if already posted."""
        move = super()._post_accounting()
        lines = self.filtered(
            lambda line: (
                line.kind in SPEND_KINDS
                and line.res_model == "pos.order"
                and line.idempotency_key
            )
        )
        if not move or not lines:
            return move
        # by id (the orders' uuid has no index): the spending orders, and the
        # refunds (named by their key) of the orders they give back credit of
        Order = self.env["pos.order"].sudo()
        spends = lines.filtered(lambda line: line.kind == "spend")
        returns = lines - spends
        refund_uuids = {line.idempotency_key.split(":")[2] for line in returns}
        orders = Order.browse(spends.mapped("res_id")).exists()
        originals = Order.browse(returns.mapped("res_id")).exists()
        orders |= originals.lines.refund_orderline_ids.order_id.filtered(
            lambda order: order.uuid in refund_uuids
        )
        orders._points_credit_reconcile()
        return move
