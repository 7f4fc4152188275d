"""The commission ledger (SPEC sections 4 and 5).

Every commission is an immutable line: accrued when the order is paid (the
pool's trigger), journalized in the Commissions journal by the posting job,
available after the plan's hold period, when the availability job credits it
to the member's wallet (a ``commission`` line of the pool ledger, under the
pool lock).  Refunds add negative lines, pro rata and exactly once per
(credit note, lot); a line that was already credited is taken back from the
wallet at once, which may go negative.

Accounts (the pool's, per company)::

    accrual             Dr commission expense   Cr commission payable
    dividend accrual    Dr commission expense   Cr dividend pool
    distribution        Dr dividend pool        Cr commission payable
    availability        Dr commission payable   Cr wallet payable
    reversal            the mirror of the above for the reversed amount
"""

from collections import defaultdict
from datetime import timedelta
from fractions import Fraction

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import commission as core
from ..core import money
from .points_commission_plan import PointsCommissionKindMixin

LINE_STATE_SELECTION = [
    ("accrued", "Accrued"),
    ("available", "In wallet"),
]

#: fields filled once by the jobs after insertion
_WRITE_ONCE = {
    "accrual_move_id",
    "available_move_id",
    "wallet_line_id",
    "date_available",
}


def _link(comodel, string=None):
    """A line's optional link: read-only, same company, indexed where set."""
    return fields.Many2one(
        comodel, string, readonly=True, index="btree_not_null", check_company=True
    )


class PointsCommissionLine(models.Model):
    _name = "points.commission.line"
    _inherit = [PointsCommissionKindMixin._name]
    _description = "Commission Line"
    _order = "id desc"
    _check_company_auto = True

    date = fields.Datetime(
        default=fields.Datetime.now, required=True, readonly=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    pool_id = fields.Many2one(
        "points.pool", required=True, readonly=True, index=True, check_company=True
    )
    plan_id = fields.Many2one(
        "points.commission.plan", readonly=True, index=True, check_company=True
    )
    rule_id = fields.Many2one(
        "points.commission.rule", readonly=True, ondelete="restrict", check_company=True
    )
    kind = fields.Selection(readonly=True, index=True)
    member_id = fields.Many2one(
        "points.member",
        "Payee",
        readonly=True,
        index=True,
        check_company=True,
        help="Empty on a dividend accrual: the money goes into the dividend pool.",
    )
    partner_id = fields.Many2one(
        "res.partner", readonly=True, index=True, help="The payee's partner."
    )
    level = fields.Integer(
        readonly=True, help="Upline level of the payee (1 = referrer)."
    )
    detail = fields.Char(readonly=True)
    amount = fields.Monetary(readonly=True)
    base_amount = fields.Monetary("Order base", readonly=True)
    lot_id = _link("points.lot")
    sale_order_id = _link("sale.order")
    buyer_id = fields.Many2one("points.member", readonly=True, check_company=True)
    state = fields.Selection(
        LINE_STATE_SELECTION,
        default="accrued",
        required=True,
        readonly=True,
        index=True,
    )
    date_due = fields.Datetime("Available from", readonly=True, index=True)
    date_available = fields.Datetime("Credited on", readonly=True)
    origin_id = _link("points.commission.line", "Reverses")
    reversal_id = _link("points.commission.reversal")
    dividend_pool_id = _link("points.dividend.pool")
    distribution_id = _link("points.dividend.distribution")
    accrual_key = fields.Char(readonly=True, copy=False)
    accrual_move_id = _link("account.move", "Accrual entry")
    available_move_id = fields.Many2one(
        "account.move", "Wallet entry", readonly=True, check_company=True
    )
    wallet_line_id = fields.Many2one(
        "points.pool.move", "Wallet ledger line", readonly=True, check_company=True
    )

    _sql_constraints = [
        (
            "accrual_key_unique",
            "UNIQUE(accrual_key)",
            "This commission was already accrued.",
        ),
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_commission_line_unposted_idx "
            "ON points_commission_line (pool_id, id) WHERE accrual_move_id IS NULL"
        )
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_commission_line_due_idx "
            "ON points_commission_line (pool_id, date_due, id) WHERE state = 'accrued'"
        )

    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for line in self:
            line.display_name = f"{kinds.get(line.kind)} #{line.id}"

    def write(self, vals):
        if set(vals) - _WRITE_ONCE - {"state"} or any(
            line[name] for line in self for name in vals if name in _WRITE_ONCE
        ):
            raise UserError(
                _("Commission lines are immutable; a refund adds reversing lines.")
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_immutable(self):
        raise UserError(_("Commission lines are immutable and cannot be deleted."))

    # ------------------------------------------------------------------
    # accrual (payment: no pool lock, a few set-based queries)
    # ------------------------------------------------------------------
    @api.model
    def _get_uplines(self, members):
        """Upline (nearest first) with rank levels of each member, one query.

        :return: ``{member id: [core.Upline, ...]}``
        """
        if not members:
            return {}
        self.env["points.referral.node"].flush_model(
            ["parent_path", "member_id", "rank_id"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT n.member_id, a.ord, u.member_id, COALESCE(r.level, 0)
                  FROM points_referral_node n
                 CROSS JOIN LATERAL unnest(
                       string_to_array(rtrim(n.parent_path, '/'), '/')::int[]
                       ) WITH ORDINALITY AS a(id, ord)
                  JOIN points_referral_node u ON u.id = a.id AND u.id != n.id
                  LEFT JOIN points_rank r ON r.id = u.rank_id
                 WHERE n.member_id IN %s
                 ORDER BY n.member_id, a.ord DESC
                """,
                tuple(members.ids),
            )
        )
        uplines = defaultdict(list)
        for member_id, _ord, up_member, level in self.env.cr.fetchall():
            uplines[member_id].append(core.Upline(up_member, level))
        return uplines

    @api.model
    def _accrue_lots(self, lots, bases=None, kinds=None, check_existing=False):
        """Compute and insert the commission lines of paid lots (the trigger).

        :param bases: ``{lot: (basis, inflow, margin, units)}`` in minor units
            (read from the invoice when missing)
        :param kinds: only these rule kinds (the service point pays on pickup)
        :return: the lines created
        """
        Plan = self.env["points.commission.plan"].sudo()
        vals_list = []
        for company in lots.company_id:
            plan = Plan.browse(Plan._get_active_plan_id(company.id))
            if not plan:
                continue
            # a service-point rule pays only once the pickup is verified: at
            # payment when it already was, else when it is (``kinds``)
            rules = [
                rule
                for rule in plan._get_core_rules()
                if kinds is None or rule.kind in kinds
            ]
            if not rules:
                continue
            company_lots = lots.filtered(lambda lot, c=company: lot.company_id == c)
            vals_list += self._prepare_accruals(plan, rules, company_lots, bases)
        if check_existing and vals_list:
            done = set(
                self.search(
                    [("accrual_key", "in", [v["accrual_key"] for v in vals_list])]
                ).mapped("accrual_key")
            )
            vals_list = [v for v in vals_list if v["accrual_key"] not in done]
        return self._insert(vals_list)

    #: columns the accrual inserts (checkout path: one INSERT, no ORM create)
    _INSERT_COLUMNS = (
        "company_id",
        "pool_id",
        "plan_id",
        "rule_id",
        "kind",
        "member_id",
        "partner_id",
        "level",
        "detail",
        "amount",
        "base_amount",
        "lot_id",
        "buyer_id",
        "date_due",
        "dividend_pool_id",
        "accrual_key",
    )

    @api.model
    def _insert(self, vals_list):
        """Insert accrued lines in one statement; :return: the new lines."""
        if not vals_list:
            return self.browse()
        now = fields.Datetime.now()
        uid = self.env.uid
        columns = self._INSERT_COLUMNS
        columns = self._INSERT_COLUMNS + self._source_links()
        rows = SQL(", ").join(
            SQL(
                "(%s)",
                SQL(", ").join(
                    [SQL("%s", vals.get(column) or None) for column in columns]
                    + [
                        SQL("%s", value)
                        for value in (now, "accrued", uid, now, uid, now)
                    ]
                ),
            )
            for vals in vals_list
        )
        self.env.cr.execute(
            SQL(
                "INSERT INTO points_commission_line (%s, date, state, create_uid, "
                "create_date, write_uid, write_date) VALUES %s RETURNING id",
                SQL(", ").join(SQL.identifier(column) for column in columns),
                rows,
            )
        )
        lines = self.browse([row[0] for row in self.env.cr.fetchall()])
        # the sources' lists of commissions changed under the ORM
        for name in self._source_links():
            comodel = self.env[self._fields[name].comodel_name]
            if "points_commission_line_ids" in comodel._fields:
                comodel.invalidate_model(["points_commission_line_ids"])
        return lines

    def _prepare_accruals(self, plan, rules, lots, bases):
        pool = lots.pool_id[:1]
        digits = pool.currency_id.decimal_places
        # only what the plan's kinds read (core.RuleKind.inputs)
        inputs = core.plan_inputs(rules)
        uplines = self._get_uplines(lots.member_id) if core.UPLINE in inputs else {}
        regions = {}
        if core.REGIONS in inputs:
            regions = (
                self.env["points.region"]
                .sudo()
                ._resolve_addresses(pool.company_id, lots.address_id)
            )
        hold = timedelta(days=pool.commission_hold_days)
        dividend_pools = {
            rule_id: pool_id
            for rule_id, pool_id in self.env["points.commission.rule"]
            .sudo()
            .browse([r.rule_id for r in rules if core.KINDS[r.kind].into_dividend_pool])
            .mapped(lambda r: (r.id, r.dividend_pool_id.id))
        }
        vals_list, computed = [], []
        links = self._source_links()
        # what the rules read of the stores (not all of res.partner's columns)
        lots.store_id.sudo().fetch(["points_store_recruiter_id"])
        for lot in lots:
            if bases and lot in bases:
                basis, inflow, margin, units = bases[lot]
            else:
                basis, inflow, margin, units = lot._get_commission_bases()
            core_order = core.Order(
                amount=basis, margin=margin, inflow=inflow, units=units
            )
            lines = core.compute(
                rules,
                core_order,
                uplines.get(lot.member_id.id, []),
                regions=regions.get(lot.address_id.id, {}),
                service_point=lot.service_point_id.member_id.id or None
                if lot.pickup_date
                else None,
                store_recruiter=lot.store_id.points_store_recruiter_id.id or None,
            )
            date_due = (lot.date_paid or fields.Datetime.now()) + hold
            computed.append((lot, basis, date_due, lines))
        payees = (
            self.env["points.member"]
            .sudo()
            .browse(
                list(
                    {
                        line.member_id
                        for *_rest, lines in computed
                        for line in lines
                        if line.member_id
                    }
                )
            )
        )
        payees.fetch(["partner_id"])
        partner_of = {member.id: member.partner_id.id for member in payees}
        for lot, basis, date_due, lines in computed:
            lot_links = {name: lot[name].id for name in links}
            for line in lines:
                vals_list.append(
                    {
                        "company_id": lot.company_id.id,
                        "pool_id": lot.pool_id.id,
                        "plan_id": plan.id,
                        "rule_id": line.rule_id,
                        "kind": line.kind,
                        "member_id": line.member_id or False,
                        "partner_id": partner_of.get(line.member_id, False),
                        "level": line.level,
                        "detail": line.detail or False,
                        "amount": money.to_decimal(line.amount, digits),
                        "base_amount": money.to_decimal(basis, digits),
                        "lot_id": lot.id,
                        **lot_links,
                        "buyer_id": lot.member_id.id,
                        "date_due": date_due,
                        "dividend_pool_id": dividend_pools.get(line.rule_id, False),
                        "accrual_key": f"{lot.id}:{line.rule_id}:{line.kind}:{line.level}:"
                        f"{line.member_id or 'pool'}:{line.detail or ''}",
                    }
                )
        return vals_list

    # ------------------------------------------------------------------
    # journal entries
    # ------------------------------------------------------------------
    def _get_account_credits(self, pool, available=False):
        """Signed credits in minor units per (account, partner) for these lines;
        with ``available`` also the move from commission payable to the wallet."""
        digits = pool.currency_id.decimal_places
        credits = defaultdict(int)
        for line in self:
            amount = money.round_minor(line.amount, digits)
            partner = line.partner_id.id or False
            if line.member_id:
                credits[pool.commission_payable_account_id, partner] += amount
            else:
                credits[pool.dividend_account_id, False] += amount
            if line.distribution_id:
                credits[pool.dividend_account_id, False] -= amount
            else:
                credits[pool.commission_expense_account_id, False] -= amount
        if available:
            for line in self.filtered("member_id"):
                amount = money.round_minor(line.amount, digits)
                credits[pool.commission_payable_account_id, line.partner_id.id] -= (
                    amount
                )
                credits[pool.wallet_account_id, line.partner_id.id] += amount
        return credits

    def _create_entry(self, pool, credits, ref):
        digits = pool.currency_id.decimal_places
        line_vals = [
            Command.create(
                {
                    "account_id": account.id,
                    "partner_id": partner,
                    "name": ref,
                    "balance": -money.to_float(amount, digits),
                    "analytic_distribution": False,
                }
            )
            for (account, partner), amount in sorted(
                credits.items(),
                key=lambda item: (item[0][0].code or "", item[0][1] or 0),
            )
            if amount
        ]
        if not line_vals:
            return self.env["account.move"]
        move = (
            self.env["account.move"]
            .sudo()
            .create(
                {
                    "move_type": "entry",
                    "journal_id": pool.commission_journal_id.id,
                    "company_id": pool.company_id.id,
                    "date": fields.Date.context_today(self),
                    "ref": ref,
                    "line_ids": line_vals,
                }
            )
        )
        move.action_post()
        return move

    def _post_accruals(self, ref=None):
        """Journalize these (unposted) lines in one entry per pool."""
        for pool in self.pool_id:
            lines = self.filtered(
                lambda line, p=pool: line.pool_id == p and not line.accrual_move_id
            )
            if not lines:
                continue
            move = lines._create_entry(
                pool,
                lines._get_account_credits(pool),
                ref or lines._get_ref(_("Commission accrual")),
            )
            if move:
                self.env.cr.execute(
                    SQL(
                        "UPDATE points_commission_line SET accrual_move_id = %s WHERE id IN %s",
                        move.id,
                        tuple(lines.ids),
                    )
                )
                lines.invalidate_recordset(["accrual_move_id"])
        return True

    def _get_ref(self, label):
        refs = set(self.lot_id.mapped("source_ref"))
        if len(refs) == 1 and all(refs):
            return f"{label} - {refs.pop()}"
        return f"{label} ({len(self)})"

    @api.model
    def _source_links(self):
        """The lots' source links a commission line carries too (same field)."""
        return tuple(
            name
            for name in self.env["points.lot"]._get_source_links()
            if name in self._fields
        )

    @api.model
    def _post_unposted(self, pool, limit=5000):
        """The posting job: journalize every accrued line not yet journalized."""
        total = 0
        while True:
            lines = self.sudo().search(
                [("pool_id", "=", pool.id), ("accrual_move_id", "=", False)],
                order="id",
                limit=limit,
            )
            if not lines:
                return total
            lines._post_accruals()
            total += len(lines)
            if len(lines) < limit:
                return total

    def _credit_wallets(self, pool, now=None):
        """Credit these accrued member lines to the wallets, under the pool lock:
        one ``commission`` ledger line per member, one entry."""
        lines = self.filtered("member_id")
        if not lines:
            return self.env["points.pool.move"]
        digits = pool.currency_id.decimal_places
        pool._lock_state()
        # re-read under the lock: a concurrent job may have credited them
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_commission_line WHERE id IN %s AND state = 'accrued'",
                tuple(lines.ids),
            )
        )
        lines = self.browse([row[0] for row in self.env.cr.fetchall()])
        lines.invalidate_recordset()
        if not lines:
            return self.env["points.pool.move"]
        # accrual of the lines not journalized yet, and payable -> wallet for all
        credits = lines._get_account_credits(pool, available=True)
        posted = lines.filtered("accrual_move_id")
        for key, amount in posted._get_account_credits(pool).items():
            credits[key] -= amount  # their accrual is already in the books
        move = lines._create_entry(
            pool, credits, lines._get_ref(_("Commission to wallet"))
        )
        by_member = defaultdict(int)
        for line in lines:
            by_member[line.member_id.id] += money.round_minor(line.amount, digits)
        ledger = pool._append_ledger(
            [
                {
                    "kind": "commission",
                    "member_id": member_id,
                    "wallet": money.to_float(amount, digits),
                    "account_move_id": move.id or False,
                }
                for member_id, amount in sorted(by_member.items())
                if amount
            ]
        )
        wallet_line = {line.member_id.id: line for line in ledger}
        now = now or fields.Datetime.now()
        # one statement for the whole batch: each line gets its member's ledger line
        self.env.cr.execute(
            SQL(
                "UPDATE points_commission_line AS l SET state = 'available', "
                "date_available = %s, available_move_id = %s, wallet_line_id = v.wl, "
                "accrual_move_id = COALESCE(l.accrual_move_id, %s) "
                "FROM (VALUES %s) AS v(id, wl) WHERE l.id = v.id",
                now,
                move.id or None,
                move.id or None,
                SQL(", ").join(
                    SQL(
                        "(%s, %s::int)",
                        line.id,
                        wallet_line[line.member_id.id].id
                        if line.member_id.id in wallet_line
                        else None,
                    )
                    for line in lines
                ),
            )
        )
        self.env.invalidate_all()
        return ledger

    @api.model
    def _make_available(self, pool, now=None, limit=5000):
        """The availability job: credit every line whose hold period ended."""
        now = now or fields.Datetime.now()
        self._post_unposted(pool)
        total = 0
        while True:
            lines = self.sudo().search(
                [
                    ("pool_id", "=", pool.id),
                    ("state", "=", "accrued"),
                    ("member_id", "!=", False),
                    ("date_due", "<=", now),
                ],
                order="date_due, id",
                limit=limit,
            )
            if not lines:
                return total
            lines._credit_wallets(pool, now)
            total += len(lines)
            if len(lines) < limit:
                return total

    # ------------------------------------------------------------------
    # refunds: pro rata, exactly once
    # ------------------------------------------------------------------
    @api.model
    def _reverse_lots(self, lots, fraction, key, source=None):
        """Reverse ``fraction`` of the commissions of each lot, once per key.

        A line already credited is taken back from the wallet now (the wallet
        may go negative); an accrued one is reversed before it is credited.
        :return: the reversing lines
        """
        Reversal = self.env["points.commission.reversal"].sudo()
        created = self.browse()
        fraction = Fraction(fraction)
        for lot in lots:
            originals = self.sudo().search(
                [("lot_id", "=", lot.id), ("origin_id", "=", False)], order="id"
            )
            if not originals:
                continue
            pool = lot.pool_id
            # serialize with the availability job and other refunds of the lot
            pool._lock_state()
            lot_key = f"{key}:{lot.id}"
            if Reversal.search_count([("key", "=", lot_key)], limit=1):
                continue
            done = Reversal.search([("lot_id", "=", lot.id)])
            already = sum((Fraction(r.fraction) for r in done), Fraction(0))
            share = min(fraction, 1 - already)
            reversal = Reversal.create(
                {
                    "key": lot_key,
                    "lot_id": lot.id,
                    "fraction": str(share),
                    "fraction_display": float(share) * 100,
                    "res_model": source._name if source else False,
                    "res_id": source.id if source else False,
                }
            )
            if share <= 0:
                continue
            digits = pool.currency_id.decimal_places
            originals.invalidate_recordset(["state"])
            vals_list = []
            for line in originals:
                amount = money.round_minor(line.amount, digits)
                back = core.reverse(
                    [core.Line(line.rule_id.id, line.kind, line.member_id.id, amount)],
                    share,
                    already,
                )
                if not back:
                    continue
                vals_list.append(
                    {
                        "company_id": line.company_id.id,
                        "pool_id": pool.id,
                        "plan_id": line.plan_id.id,
                        "rule_id": line.rule_id.id,
                        "kind": line.kind,
                        "member_id": line.member_id.id,
                        "partner_id": line.partner_id.id,
                        "level": line.level,
                        "detail": line.detail,
                        "amount": money.to_float(back[0].amount, digits),
                        "base_amount": line.base_amount,
                        "lot_id": lot.id,
                        **{name: line[name].id for name in self._source_links()},
                        "buyer_id": line.buyer_id.id,
                        "date_due": line.date_due,
                        "origin_id": line.id,
                        "reversal_id": reversal.id,
                        "dividend_pool_id": line.dividend_pool_id.id,
                    }
                )
            lines = self.sudo().create(vals_list)
            credited = lines.filtered(lambda r: r.origin_id.state == "available")
            (lines - credited)._post_accruals(
                ref=lines._get_ref(_("Commission reversal"))
            )
            credited._credit_wallets(pool)
            created |= lines
        return created


class PointsCommissionReversal(models.Model):
    """One refund of one lot's commissions: the key makes it happen once."""

    _name = "points.commission.reversal"
    _description = "Commission Reversal"
    _order = "id desc"
    _check_company_auto = True

    key = fields.Char(required=True, readonly=True, index=True)
    lot_id = fields.Many2one("points.lot", required=True, readonly=True, index=True)
    company_id = fields.Many2one(related="lot_id.company_id", store=True, index=True)
    fraction = fields.Char(readonly=True, help="Exact share of the order reversed.")
    fraction_display = fields.Float("Share (%)", digits=(16, 4), readonly=True)
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    line_ids = fields.One2many("points.commission.line", "reversal_id")

    _sql_constraints = [
        ("key_unique", "UNIQUE(key)", "This refund was already reversed."),
    ]
