"""Commission plans and rules (SPEC section 4), guarded by SPEC section 6.

A plan is a list of rules; one plan per company is active.  The rules are
translated into :class:`..core.commission.Rule` and checked by
:func:`..core.commission.check_plan` whenever a plan or a rule is saved and
when a plan is activated: paid depth 2, 3 only with a logged manager
acknowledgement, never 4; no negative rate; no base paid above 100%.

What a rule of each kind may be, pays, reads and risks is its
:class:`..core.commission.RuleKind` (:data:`..core.commission.KINDS`); the
``kind`` selection of rules and lines is :class:`PointsCommissionKindMixin`'s,
which an addon extends with ``selection_add`` beside registering its kind.
"""

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..core import commission as core
from ..core import compliance, money
from .points_pool import require_manager

#: labels of the built-in kinds (the definitions: :data:`core.KINDS`)
RULE_KIND_SELECTION = [
    (core.DIRECT, "Direct (level 1)"),
    (core.INDIRECT, "Indirect (level 2)"),
    (core.RANK_DIFFERENTIAL, "Rank differential"),
    (core.PEER, "Peer bonus"),
    (core.REGIONAL, "Regional agents"),
    (core.SERVICE_POINT, "Service point"),
    (core.MERCHANT, "Merchant recruitment"),
    (core.DIVIDEND, "Dividend pool"),
]

RULE_BASE_SELECTION = [
    ("amount", "Order amount"),
    ("margin", "Margin"),
    ("inflow", "Pool inflow"),
    ("unit", "Per unit of a product"),
]

VALUE_TYPE_SELECTION = [
    ("rate", "Percentage of the base"),
    ("fixed", "Fixed amount"),
]

REGION_LEVEL_SELECTION = [
    ("district", "District"),
    ("city", "City"),
    ("province", "Province"),
    ("region", "Region"),
]


class PointsCommissionKindMixin(models.AbstractModel):
    """The ``kind`` of commission rules and lines: one selection of the kinds
    registered in :data:`..core.commission.KINDS`.  An addon that registers a
    kind adds its code and label here, once::

        kind = fields.Selection(selection_add=[("flat", "Flat bonus")],
                                ondelete={"flat": "cascade"})
    """

    _name = "points.commission.kind.mixin"
    _description = "Commission Kind"

    kind = fields.Selection(RULE_KIND_SELECTION, required=True)

    def _kind(self):
        """This record's :class:`core.RuleKind`."""
        self.ensure_one()
        return core.kind_of(self.kind)


class PointsCommissionPlan(models.Model):
    _name = "points.commission.plan"
    _description = "Commission Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "company_id, state, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
        readonly=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("closed", "Closed")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    rule_ids = fields.One2many(
        "points.commission.rule", "plan_id", string="Rules", copy=True
    )
    depth = fields.Integer(
        "Paid depth",
        compute="_compute_depth",
        store=True,
        help="Upline levels the plan can pay; rank differential and peer bonus count.",
    )
    depth_acknowledged = fields.Boolean(
        "Depth 3 acknowledged",
        readonly=True,
        copy=False,
        tracking=True,
        help="A manager's explicit acknowledgement that the plan pays a third level.",
    )
    acknowledged_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    acknowledged_date = fields.Datetime(readonly=True, copy=False)
    reference_amount = fields.Monetary(
        "Reference order",
        default=1000.0,
        help="Order amount the plan report evaluates the referral pay on.",
    )
    date_activated = fields.Datetime(readonly=True, copy=False)
    line_count = fields.Integer(compute="_compute_line_count")
    warning_text = fields.Text("Warnings", compute="_compute_warnings")

    @api.depends("rule_ids.kind", "rule_ids.levels")
    def _compute_depth(self):
        for plan in self:
            plan.depth = max((rule._get_depth() for rule in plan.rule_ids), default=0)

    def _compute_line_count(self):
        counts = dict(
            self.env["points.commission.line"]._read_group(
                [("plan_id", "in", self.ids)], ["plan_id"], ["__count"]
            )
        )
        for plan in self:
            plan.line_count = counts.get(plan, 0)

    # ------------------------------------------------------------------
    # the guard (SPEC 6)
    # ------------------------------------------------------------------
    def _get_core_rules(self):
        """The plan's rules for the pure core, cached per plan until any
        plan, rule or tier changes (checkout reads them without a query)."""
        self.ensure_one()
        return self._get_core_rules_cached(self.id)

    @tools.ormcache("plan_id")
    def _get_core_rules_cached(self, plan_id):
        plan = self.sudo().browse(plan_id)
        return tuple(rule._to_core() for rule in plan.rule_ids)

    @api.model
    @tools.ormcache("company_id")
    def _get_active_plan_id(self, company_id):
        plan = self.sudo().search(
            [("company_id", "=", company_id), ("state", "=", "active")], limit=1
        )
        return plan.id

    @api.model
    def _uses_margin(self, company_id):
        """Does the company's active plan have a rule on the margin? (cached)"""
        plan = self.browse(self._get_active_plan_id(company_id))
        return bool(plan) and any(
            rule.base == "margin" for rule in plan._get_core_rules()
        )

    def _error_message(self, error):
        values = error.values
        rule = self.env["points.commission.rule"].browse(values.get("rule") or [])
        name = rule.exists().display_name or ""
        messages = {
            "depth": _(
                "The plan pays %(depth)s levels of the upline. The limit is %(limit)s: "
                "2 levels (direct and indirect), 3 only after a manager acknowledges "
                "it, never more. Rank differential and peer bonus count toward the depth.",
                depth=values.get("depth"),
                limit=values.get("limit"),
            ),
            "negative": _(
                "Rule %(rule)s: rates and amounts cannot be negative.", rule=name
            ),
            "rate_above_base": _(
                "Rule %(rule)s: a rate cannot be above 100%% of its base.", rule=name
            ),
            "rates_above_base": _(
                "The rates of the plan's rules on the base %(base)s add up to "
                "%(total)s%%, more than the base itself.",
                base=dict(RULE_BASE_SELECTION).get(
                    values.get("base"), values.get("base")
                ),
                total=round(float(values.get("total", 0)) * 100, 4),
            ),
            "not_increasing": _(
                "Rule %(rule)s: a differential pays each higher rank or region level "
                "at least as much as the one below it.",
                rule=name,
            ),
            "bad_levels": _(
                "Rule %(rule)s: it must pay at least one level.", rule=name
            ),
            "unknown_kind": _(
                "The rule kind %(kind)s is not registered: is its module installed?",
                kind=values.get("kind"),
            ),
        }
        return messages.get(error.code, str(error))

    def _check_plan(self):
        for plan in self:
            try:
                depth = core.check_plan(
                    plan._rules_uncached(), acknowledged=plan.depth_acknowledged
                )
            except core.CommissionError as error:
                raise ValidationError(plan._error_message(error)) from error
            if depth > core.DEPTH_DEFAULT and not plan.depth_acknowledged:
                raise ValidationError(
                    plan._error_message(core.CommissionError("depth"))
                )

    def _rules_uncached(self):
        self.ensure_one()
        return [rule._to_core() for rule in self.rule_ids]

    @api.constrains("depth_acknowledged", "rule_ids")
    def _constrains_plan(self):
        self._check_plan()

    # ------------------------------------------------------------------
    # CRUD: caches and the frozen active plan
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        plans = super().create(vals_list)
        self.env.registry.clear_cache()
        return plans

    def write(self, vals):
        if "depth_acknowledged" in vals and not self.env.context.get(
            "points_commission_ack"
        ):
            if vals["depth_acknowledged"]:
                raise UserError(
                    _(
                        "Use the button “Acknowledge depth 3”: it logs who did it and when."
                    )
                )
            vals.update(acknowledged_by_id=False, acknowledged_date=False)
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        if (
            self.env["points.commission.line"]
            .sudo()
            .search_count([("plan_id", "in", self.ids)], limit=1)
        ):
            raise UserError(
                _("A plan that paid commissions cannot be deleted; close it.")
            )

    def _check_editable(self):
        if any(plan.state != "draft" for plan in self):
            raise UserError(
                _(
                    "The rules of an active or closed plan cannot change; set it to "
                    "draft first."
                )
            )

    def _check_manager(self):
        require_manager(self.env, _("Only a points pool manager can do this."))

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_acknowledge_depth(self):
        """A manager acknowledges a third paid level; logged in the chatter."""
        self._check_manager()
        return self._acknowledge_depth()

    def _acknowledge_depth(self):
        for plan in self:
            plan.with_context(points_commission_ack=True).write(
                {
                    "depth_acknowledged": True,
                    "acknowledged_by_id": self.env.uid,
                    "acknowledged_date": fields.Datetime.now(),
                }
            )
            plan.message_post(
                body=_(
                    "%(user)s acknowledged that this plan may pay a third level of the "
                    "upline (SPEC 6: multi-level team pay risks 传销; the default is 2 "
                    "levels, never more than 3).",
                    user=self.env.user.name,
                )
            )
        return True

    def action_activate(self):
        """Check the plan again and make it the company's active plan."""
        self._check_manager()
        return self._activate()

    def _activate(self):
        for plan in self:
            if plan.state != "draft":
                raise UserError(_("Only a draft plan can be activated."))
            if not plan.rule_ids:
                raise UserError(_("A plan needs at least one rule."))
            plan._check_plan()
            plan.rule_ids._check_rule()
            others = self.search(
                [
                    ("company_id", "=", plan.company_id.id),
                    ("state", "=", "active"),
                    ("id", "!=", plan.id),
                ]
            )
            others.write({"state": "closed"})
            plan.write({"state": "active", "date_activated": fields.Datetime.now()})
        return True

    def action_close(self):
        self._check_manager()
        self.write({"state": "closed"})
        return True

    def action_draft(self):
        self._check_manager()
        self.filtered(lambda p: p.state == "closed").write({"state": "draft"})
        return True

    def action_open_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_commission_line_action"
        )
        action["domain"] = [("plan_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # the plan report (SPEC 6)
    # ------------------------------------------------------------------
    def _get_reference_pay(self):
        """Referral pay of the plan on the reference order, worst case:
        a 20-deep upline, everyone at the highest rank that pays most.

        :return: ``(referral pay, order amount)`` in minor units
        """
        self.ensure_one()
        digits = self.currency_id.decimal_places
        amount = money.round_minor(self.reference_amount or 0.0, digits)
        rules = self._rules_uncached()
        referral = compliance.referral_kinds()
        ranks = sorted(
            {lvl for rule in rules for lvl in rule.rank_amounts} or {0}, reverse=True
        )
        best = 0
        # worst case for the differential: the top rank right above the buyer;
        # for the peer bonus: everyone at the same rank
        for rank in ranks:
            upline = [core.Upline(i + 1, rank) for i in range(20)]
            lines = core.compute(
                rules,
                core.Order(amount=amount, margin=amount, inflow=amount),
                upline,
            )
            best = max(
                best,
                sum(line.amount for line in lines if line.kind in referral),
            )
        return best, amount

    def _get_warnings(self):
        """Every SPEC 6 warning that applies to this plan (translated text);
        the conditions are :func:`..core.compliance.plan_warnings`."""
        self.ensure_one()
        referral, amount = self._get_reference_pay()
        params = (
            self.env["points.pool"]
            .sudo()
            ._get_company_pool(self.company_id)
            ._get_params()
        )
        packages = self._get_package_ranks()
        warnings = compliance.plan_warnings(
            self.depth,
            self.depth_acknowledged,
            referral,
            amount,
            params.retention,
            params.exit_multiple,
            package_ranks=packages,
        )
        return self._warning_texts(warnings)

    def _warning_texts(self, warnings):
        """Translated text of :mod:`..core.compliance` warnings, for the plan
        and compliance reports (``self`` is the plan, or empty for the pool's
        own warnings).  ``package_ranks`` values are ``points.rank`` records."""
        texts = []
        currency = self.currency_id or self.env.company.currency_id
        digits = currency.decimal_places
        for code, values in warnings:
            if code == compliance.DEPTH and values["acknowledged"]:
                texts.append(
                    _(
                        "The plan pays %(depth)s levels of the upline, acknowledged by "
                        "%(user)s on %(date)s. Multi-level team pay risks being treated "
                        "as 传销 (禁止传销条例 art. 7).",
                        depth=values["depth"],
                        user=self.acknowledged_by_id.name or "",
                        date=self.acknowledged_date or "",
                    )
                )
            elif code == compliance.DEPTH:
                texts.append(
                    _(
                        "The plan pays %(depth)s levels and is not acknowledged: it "
                        "cannot be saved or activated like this.",
                        depth=values["depth"],
                    )
                )
            elif code == compliance.REFERRAL_PAY:
                texts.append(
                    _(
                        "Referral pay reaches %(pay)s on an order of %(amount)s "
                        "(%(share).1f%%), above 10%% of the order.",
                        pay=currency.format(money.to_float(values["pay"], digits)),
                        amount=currency.format(
                            money.to_float(values["amount"], digits)
                        ),
                        share=float(100 * values["share"]),
                    )
                )
            elif code == compliance.STATIC_RETURN:
                texts.append(
                    _(
                        "(1 − retention) × exit multiple = %(ratio).2f > 1: a member who is "
                        "forced out receives more than the amount spent, which looks like a "
                        "guaranteed return (防范和处置非法集资条例 art. 2).",
                        ratio=float(values["ratio"]),
                    )
                )
            elif code == compliance.PACKAGE_RANKS:
                texts.append(
                    _(
                        "Ranks granted by buying a package product: %(ranks)s. The programme "
                        "must not sell ranks.",
                        ranks=", ".join(
                            "{} ({})".format(
                                rank.name,
                                ", ".join(
                                    rank.package_product_ids.mapped("display_name")
                                ),
                            )
                            for rank in values["ranks"]
                        ),
                    )
                )
        return texts

    def _get_package_ranks(self):
        self.ensure_one()
        return self.env["points.rank"]._package_ranks(self.company_id)

    def _get_report_rules(self):
        """Rows of the plan report: rule, kind, base, value, depth, risk tag."""
        self.ensure_one()
        kinds = dict(
            self.env["points.commission.rule"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        risks = self._get_risk_tags()
        return [
            {
                "rule": rule,
                "kind": kinds.get(rule.kind),
                "depth": rule._get_depth(),
                "risk": risks.get(rule.kind, ""),
            }
            for rule in self.rule_ids
        ]

    def _get_risk_tags(self):
        """SPEC 6 risk tag of each kind of this database, translated, for the
        plan report (each kind's :attr:`core.RuleKind.risk_tag`)."""
        texts = self._risk_tag_texts()
        kinds = self.env["points.commission.rule"]._fields["kind"].get_values(self.env)
        return {kind: texts[compliance.risk_tag(kind)] for kind in kinds}

    @api.model
    def _risk_tag_texts(self):
        """Translated text of each risk tag of :mod:`..core.compliance` (an
        addon whose kind brings a new tag adds its text by overriding this)."""
        return {
            compliance.RISK_REFERRAL: _("referral pay (二级分销)"),
            compliance.RISK_TEAM: _("team pay (团队计酬): counts toward the depth"),
            compliance.RISK_TERRITORY: _("territory pay: territories must not be sold"),
            compliance.RISK_SERVICE: _(
                "service pay: service-point status must not be sold"
            ),
            compliance.RISK_MERCHANT: _(
                "merchant recruitment: a share of the store's sales, never per store"
            ),
            compliance.RISK_DIVIDEND: _("pool shared by rank: ranks must not be sold"),
            compliance.RISK_POOL: _(
                "returns depend on future purchases: never present them as "
                "guaranteed (非法集资)"
            ),
            compliance.RISK_CREDIT: _(
                "part of each withdrawal is paid in repurchase credit, usable on "
                "purchases only"
            ),
            compliance.RISK_VESTING: _(
                "points are locked and released day by day: members cannot sell at once"
            ),
        }

    def action_compliance_report(self):
        """The pool's compliance report for this plan's configuration (a
        draft plan can be judged before it is activated)."""
        self.ensure_one()
        pool = self.env["points.pool"].search(
            [("company_id", "=", self.company_id.id)], limit=1
        )
        if not pool:
            raise UserError(_("The plan's company has no points pool yet."))
        return self.env.ref(
            "points_pool.points_pool_compliance_report_html"
        ).report_action(pool, data={"plan_id": self.id}, config=False)

    def _get_not_built(self):
        """SPEC 6 "not built, by decision" and the seeds' health-value variant,
        translated, each with the reason."""
        texts = {
            "breakaway": _(
                "链动2+1 breakaway: a member's first recruits are given up to the "
                "upline, pay decided by who recruited whom (pay per recruit)"
            ),
            "unlimited_depth": _(
                "见点奖 at unlimited depth: a bonus on every order anywhere below "
                "(unbounded team pay; here at most 3 paid levels)"
            ),
            "spill_over": _(
                "三三滑落 spill-over: recruits placed in a forced matrix, a tree "
                "shaped to reward recruiting (pay per recruit)"
            ),
            "turnover_shares": _(
                "shareholder payouts from turnover: returns promised from other "
                "people's money (a securities-like issuance)"
            ),
            "listed_shares": _(
                "conversion of points into listed shares (a securities-like issuance)"
            ),
            "release_per_friend": _(
                "health value: locked points released faster per shared friend and "
                "gated on watching ads (pay per recruit)"
            ),
            "star_cultivation": _(
                "health value: star ranks that require cultivating three 3-stars "
                "(rank by recruits, pay per recruit)"
            ),
            "halving_issuance": _(
                "health value: a halving issuance of tradable 健康积分 priced "
                "against a listed share (a securities-like issuance)"
            ),
            "tip_rewards": _(
                "health value: merchant 打赏 rewards paid to both sides' referrers "
                "(pay per recruit)"
            ),
        }
        return [texts[code] for code in compliance.NOT_BUILT]

    @api.depends(
        "depth", "depth_acknowledged", "rule_ids", "reference_amount", "company_id"
    )
    def _compute_warnings(self):
        for plan in self:
            try:
                warnings = plan._get_warnings()
            except core.CommissionError:
                warnings = []
            plan.warning_text = "\n".join(f"• {w}" for w in warnings) or False


class PointsCommissionRule(models.Model):
    _name = "points.commission.rule"
    _inherit = ["points.commission.kind.mixin"]
    _description = "Commission Rule"
    _order = "plan_id, sequence, id"
    _check_company_auto = True

    plan_id = fields.Many2one(
        "points.commission.plan", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(default=10)
    name = fields.Char(translate=True)
    kind = fields.Selection(default=core.DIRECT)
    base = fields.Selection(RULE_BASE_SELECTION, required=True, default="amount")
    value_type = fields.Selection(
        VALUE_TYPE_SELECTION, "Pays", required=True, default="rate"
    )
    rate = fields.Float(
        "Rate (%)",
        digits=(16, 4),
        help="Percentage of the base. For a peer bonus: percentage of the "
        "same-rank downline's direct and indirect pay on the order.",
    )
    amount = fields.Monetary(
        "Fixed amount",
        help="Per order, or per unit with the base “Per unit of a product”.",
    )
    product_id = fields.Many2one(
        "product.product", check_company=True, help="The product counted per unit."
    )
    levels = fields.Integer(
        default=1,
        help="Rank differential: upline levels it walks. Peer bonus: the highest "
        "level it pays. Both count toward the plan's paid depth.",
    )
    tier_ids = fields.One2many(
        "points.commission.tier", "rule_id", string="Tiers", copy=True
    )
    dividend_pool_id = fields.Many2one(
        "points.dividend.pool", check_company=True, ondelete="restrict"
    )
    # what the form shows, from the kind's definition (core.RuleKind)
    kind_tiers = fields.Selection(
        [(core.TIER_RANK, "Ranks"), (core.TIER_REGION, "Region levels")],
        "Tiered by",
        compute="_compute_kind_attributes",
    )
    kind_walks_levels = fields.Boolean(
        "Pays by levels", compute="_compute_kind_attributes"
    )
    kind_rate_only = fields.Boolean(
        "Percentage only", compute="_compute_kind_attributes"
    )
    kind_into_dividend_pool = fields.Boolean(
        "Pays into a dividend pool", compute="_compute_kind_attributes"
    )

    @api.depends("kind")
    def _compute_kind_attributes(self):
        for rule in self:
            kind = core.KINDS.get(rule.kind)
            rule.kind_tiers = kind.tiers if kind else False
            rule.kind_walks_levels = bool(kind and kind.walks_levels)
            rule.kind_rate_only = bool(kind and kind.value_types == ("rate",))
            rule.kind_into_dividend_pool = bool(kind and kind.into_dividend_pool)

    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for rule in self:
            rule.display_name = rule.name or kinds.get(rule.kind) or ""

    def _get_depth(self):
        """Upline levels this rule can pay (its kind's depth; 0 for a kind
        this database does not know)."""
        self.ensure_one()
        return core.rule_depth(core.Rule(0, self.kind, levels=self.levels or 1))

    def _to_core(self):
        """This rule as a :class:`core.commission.Rule` (exact values)."""
        self.ensure_one()
        kind = self._kind()
        digits = self.currency_id.decimal_places or 2

        def value(rate, amount):
            if self.value_type == "rate":
                return money.fraction_of(rate or 0) / 100
            return money.round_minor(amount or 0, digits)

        rank_amounts, region_amounts = {}, {}
        for tier in self.tier_ids:
            if tier.rank_id:
                rank_amounts[tier.rank_id.level] = value(tier.rate, tier.amount)
            elif tier.region_level:
                region_amounts[tier.region_level] = value(tier.rate, tier.amount)
        # a differential's rates are its tiers'; a rate-only kind is a rate
        is_rate = (self.value_type == "rate" and not kind.tiers) or (
            kind.value_types == ("rate",)
        )
        return core.Rule(
            rule_id=self.id or 0,
            kind=self.kind,
            base=self.base,
            rate=money.fraction_of(self.rate or 0) / 100 if is_rate else None,
            amount=None if is_rate else money.round_minor(self.amount or 0, digits),
            product_id=self.product_id.id or None,
            rank_amounts=rank_amounts,
            region_amounts=region_amounts,
            levels=self.levels or 0,
        )

    @api.constrains(
        "kind",
        "base",
        "value_type",
        "rate",
        "amount",
        "product_id",
        "levels",
        "tier_ids",
        "dividend_pool_id",
    )
    def _check_rule(self):
        """What a rule of its kind must give (:class:`core.RuleKind`), then
        the plan's guard."""
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for rule in self:
            error = rule._rule_error(rule._kind())
            if error:
                raise ValidationError(
                    error % {"rule": rule.display_name, "kind": kinds.get(rule.kind)}
                )
        self.plan_id._check_plan()

    def _rule_error(self, kind):
        """The first thing this rule lacks for ``kind`` (untranslated
        placeholders ``%(rule)s`` and ``%(kind)s``), or ``None``."""
        if (self.rate or 0) < 0 or (self.amount or 0) < 0:
            return _("Rule %(rule)s: rates and amounts cannot be negative.")
        if self.base == "unit" and not self.product_id:
            return _("Rule %(rule)s: a per-unit rule names its product.")
        if self.base == "unit" and self.value_type == "rate" and kind.of_base:
            return _("Rule %(rule)s: a per-unit rule pays a fixed amount per unit.")
        if kind.into_dividend_pool and not self.dividend_pool_id:
            return _("Rule %(rule)s: a dividend rule names its dividend pool.")
        if self.value_type not in kind.value_types:
            if kind.value_types == ("rate",):
                return _("Rule %(rule)s: a %(kind)s rule is a percentage.")
            return _("Rule %(rule)s: a %(kind)s rule pays a fixed amount.")
        if kind.tiers == core.TIER_RANK and not self.tier_ids.rank_id:
            return _("Rule %(rule)s: give the amount of each rank.")
        if kind.tiers == core.TIER_REGION and not self.tier_ids.filtered(
            "region_level"
        ):
            return _("Rule %(rule)s: give the amount of each region level.")
        if kind.walks_levels and self.levels < 1:
            return _("Rule %(rule)s: it must pay at least one level.")
        return None

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules.plan_id._check_editable()
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        self.plan_id._check_editable()
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        plans = self.plan_id
        plans._check_editable()
        res = super().unlink()
        plans._check_plan()
        self.env.registry.clear_cache()
        return res


class PointsCommissionTier(models.Model):
    """One step of a differential: a rank's or a region level's amount or rate."""

    _name = "points.commission.tier"
    _description = "Commission Rule Tier"
    _order = "rule_id, sequence, id"
    _check_company_auto = True

    rule_id = fields.Many2one(
        "points.commission.rule", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="rule_id.company_id", store=True)
    currency_id = fields.Many2one(related="rule_id.currency_id")
    sequence = fields.Integer(default=10)
    rank_id = fields.Many2one(
        "points.rank",
        ondelete="restrict",
        domain="[('company_id', '=', company_id)]",
        check_company=True,
    )
    region_level = fields.Selection(REGION_LEVEL_SELECTION)
    rate = fields.Float("Rate (%)", digits=(16, 4))
    amount = fields.Monetary("Fixed amount")

    _sql_constraints = [
        (
            "rank_or_region",
            "CHECK((rank_id IS NULL) != (region_level IS NULL))",
            "A tier is either a rank's or a region level's.",
        ),
        ("rank_unique", "UNIQUE(rule_id, rank_id)", "A rank appears once per rule."),
        (
            "region_unique",
            "UNIQUE(rule_id, region_level)",
            "A region level appears once per rule.",
        ),
    ]

    @api.constrains("rate", "amount")
    def _check_values(self):
        for tier in self:
            if (tier.rate or 0) < 0 or (tier.amount or 0) < 0:
                raise ValidationError(_("Rates and amounts cannot be negative."))

    @api.model_create_multi
    def create(self, vals_list):
        tiers = super().create(vals_list)
        tiers.rule_id.plan_id._check_editable()
        tiers.rule_id._check_rule()
        self.env.registry.clear_cache()
        return tiers

    def write(self, vals):
        self.rule_id.plan_id._check_editable()
        res = super().write(vals)
        self.rule_id._check_rule()
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        self.rule_id.plan_id._check_editable()
        res = super().unlink()
        self.env.registry.clear_cache()
        return res
