"""Commission computation, without the ORM (SPEC section 4).

Given one order's bases, the buyer's upline (nearest first, with rank levels),
the agents of the delivery address's regions, the verified service point, the
store's recruiter and a plan (a list of :class:`Rule`), :func:`compute` returns
the commission lines.  Money is integers of the currency's smallest unit;
rates are ``Fraction``; every line is floored, so rounding never pays more than
the rule says.  Nothing here can pay per recruit or read recruit counts: the
only inputs are the order's amounts and positions in the tree.

Each kind of rule is one :class:`RuleKind` in :data:`KINDS`: its computation,
what it reads, its depth, its SPEC 6 risk tag, how it is configured.  The
guard, the split, the ORM's checks, the reports and the accrual read that
definition; an addon adds a kind with :func:`register_kind` (README, "Adding a
rule kind") and edits nothing here.

Worked split of the seeds (a 1000 package, amounts in yuan)::

    rule                      pays
    direct 10% of amount      100 to the referrer
    rank differential         合伙人 10 / 联创 20 / 董事 30, each upline the
                              rank's amount less what lower ranks got
    peer 10%                  10% of a same-rank downline's direct and
                              indirect pay on the order, one level up
    regional (differential)   district 3 / city 5 / province 8 / region 10
    service point             20 on verified pickup
    dividend pool             40 into the pool, shared monthly 30/30/40
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

#: the built-in kinds of rules (each a :class:`RuleKind` of :data:`KINDS`)
DIRECT = "direct"
INDIRECT = "indirect"
RANK_DIFFERENTIAL = "rank_differential"
PEER = "peer"
REGIONAL = "regional"
SERVICE_POINT = "service_point"
MERCHANT = "merchant"
DIVIDEND = "dividend"

#: what a kind's computation reads besides the order (:attr:`RuleKind.inputs`)
UPLINE = "upline"
REGIONS = "regions"
SERVICE_POINT_MEMBER = "service_point"
STORE_RECRUITER = "store_recruiter"

#: the SPEC 6 risk tag a kind carries (:attr:`RuleKind.risk_tag`); the
#: compliance module names the pool's own mechanisms' tags and the texts
RISK_REFERRAL = "referral"
RISK_TEAM = "team"
RISK_TERRITORY = "territory"
RISK_SERVICE = "service"
RISK_MERCHANT = "merchant"
RISK_DIVIDEND = "dividend"

#: tiers a differential kind is configured with (:attr:`RuleKind.tiers`)
TIER_RANK = "rank"
TIER_REGION = "region"

#: bases a rule's rate applies to; ``unit`` is a fixed amount per unit of a product
BASES = ("amount", "margin", "inflow", "unit")

#: region levels, lowest first (区代, 市代, 省代, 大区)
REGION_LEVELS = ("district", "city", "province", "region")

#: paid depth allowed without and with a manager's acknowledgement (SPEC 6)
DEPTH_DEFAULT = 2
DEPTH_ACKNOWLEDGED = 3


class CommissionError(ValueError):
    """A plan or an input the computation refuses; ``code`` names the reason."""

    def __init__(self, code, **values):
        super().__init__(code, values)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Rule:
    """One rule of a plan.

    :param rule_id: the ORM rule's id (echoed on the lines)
    :param kind: a code of :data:`KINDS`
    :param base: one of :data:`BASES`
    :param rate: ``Fraction`` of the base (``None`` with ``amount`` or ``unit``)
    :param amount: fixed amount in minor units (per order, or per unit for ``unit``)
    :param product_id: the product counted by a ``unit`` base
    :param rank_amounts: rank differential: ``{rank level: amount or Fraction}``
        (an ``int`` is a fixed amount, a ``Fraction`` a rate of the base)
    :param region_amounts: regional: ``{region level: amount or Fraction}``
    :param levels: how many upline levels a rank differential walks, or the
        highest level a peer bonus pays
    :param peer_kinds: peer bonus: the kinds of commission it takes its share of
        (the seeds: 10% of a same-rank downline's direct and indirect pay)
    """

    rule_id: int
    kind: str
    base: str = "amount"
    rate: Fraction | None = None
    amount: int | None = None
    product_id: int | None = None
    rank_amounts: dict = field(default_factory=dict)
    region_amounts: dict = field(default_factory=dict)
    levels: int = 1
    peer_kinds: tuple = (DIRECT, INDIRECT)


@dataclass(frozen=True)
class Order:
    """An order's bases, in minor units; ``units`` maps product id to quantity."""

    amount: int
    margin: int = 0
    inflow: int = 0
    units: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Upline:
    """A referrer above the buyer: its member id and rank level (0 = no rank)."""

    member_id: int
    rank_level: int = 0


@dataclass(frozen=True)
class Line:
    """A commission line: ``member_id`` is ``None`` for the dividend pool."""

    rule_id: int
    kind: str
    member_id: int | None
    amount: int
    level: int = 0
    detail: str = ""


def _base(rule, order):
    if rule.base == "unit":
        return Fraction(order.units.get(rule.product_id, 0))
    return Fraction(getattr(order, rule.base))


def value_of(spec, rule, order):
    """A fixed amount (int) or a rate (Fraction) of the rule's base, exact."""
    if isinstance(spec, Fraction):
        return spec * _base(rule, order)
    if rule.base == "unit":
        return Fraction(spec) * _base(rule, order)
    return Fraction(spec)


def rule_value(rule, order):
    """What the rule's own rate or amount comes to on the order, exact."""
    spec = rule.rate if rule.rate is not None else rule.amount
    return value_of(spec, rule, order) if spec is not None else Fraction(0)


def floor(value):
    """Money is floored: rounding never pays more than the rule says."""
    return int(value // 1)


# ----------------------------------------------------------------------
# the registry of rule kinds
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class RuleKind:
    """Everything the addon knows about one kind of rule, in one place.

    :param code: the key of rules and lines (the ORM's selection value)
    :param lines: ``lines(rule, order, ctx)`` -> list of :class:`Line`;
        ``ctx`` has ``upline`` (:class:`Upline` list, nearest first),
        ``regions`` (``{region level: member id}``), ``service_point`` and
        ``store_recruiter`` (member ids or ``None``) and, for an ``after``
        kind, ``lines`` (the lines of the other kinds so far)
    :param risk_tag: its SPEC 6 risk tag (``RISK_*``); the referral and team
        tags make its pay referral pay (the 10 % warning, the reports)
    :param inputs: what ``lines`` reads besides the order (:data:`UPLINE`,
        :data:`REGIONS`...): the ORM computes only what a plan's kinds read
    :param depth: upline levels a rule of this kind can pay (direct 1,
        indirect 2); with ``walks_levels`` the rule's ``levels`` instead
    :param walks_levels: the rule's ``levels`` is its depth (at least 1)
    :param after: computed after the other kinds (a share of their pay)
    :param of_base: its rate is a share of the order's base, counted toward
        the base's 100 % (the peer bonus: a share of other commissions)
    :param value_types: how its rules pay: ``"rate"`` and/or ``"fixed"``
    :param tiers: :data:`TIER_RANK` or :data:`TIER_REGION`: its amounts are
        given per rank or per region level (a differential)
    :param into_dividend_pool: it pays into a dividend pool (no payee; the
        rule names the pool, the accrual credits the dividend account)
    :param check: ``check(rule)`` raises :class:`CommissionError` for a rule
        of this kind :func:`check_plan` should refuse (beyond the common checks)
    """

    code: str
    lines: Callable
    risk_tag: str
    inputs: frozenset = frozenset()
    depth: int = 0
    walks_levels: bool = False
    after: bool = False
    of_base: bool = True
    value_types: tuple = ("rate", "fixed")
    tiers: str | None = None
    into_dividend_pool: bool = False
    check: Callable | None = None

    def depth_of(self, rule):
        """Upline levels ``rule`` (of this kind) can pay."""
        return rule.levels if self.walks_levels else self.depth

    @property
    def referral(self):
        """Is its pay referral pay (SPEC 6: paid up the referral tree)?"""
        return self.risk_tag in (RISK_REFERRAL, RISK_TEAM)


#: code -> :class:`RuleKind`, in registration order (the built-in kinds first)
KINDS = {}


def register_kind(kind):
    """Add a kind of rule (an addon calls it when its Python is imported,
    beside a ``selection_add`` of the code on ``points.commission.kind.mixin``).

    Registering the same definition again is a no-op; another definition
    under a registered code is refused.
    :return: ``kind``
    """
    known = KINDS.get(kind.code)
    if known is not None and known != kind:
        raise CommissionError("kind_registered", kind=kind.code)
    KINDS[kind.code] = kind
    return kind


def kind_of(code):
    """The :class:`RuleKind` registered under ``code``."""
    try:
        return KINDS[code]
    except KeyError:
        raise CommissionError("unknown_kind", kind=code) from None


def kinds_reading(source):
    """The codes of the kinds whose rules read ``source`` (one of ``inputs``):
    what an event about that source (a pickup verified at a service point)
    must accrue.

    >>> kinds_reading(SERVICE_POINT_MEMBER)
    ('service_point',)
    """
    return tuple(code for code, kind in KINDS.items() if source in kind.inputs)


def plan_inputs(rules):
    """What the kinds of ``rules`` read besides the order (``inputs``)."""
    return frozenset().union(
        *(KINDS[rule.kind].inputs for rule in rules if rule.kind in KINDS)
    )


def rule_depth(rule):
    """Upline levels a rule can pay (:meth:`RuleKind.depth_of`; 0 for a
    kind that pays no upline)."""
    kind = KINDS.get(rule.kind)
    return kind.depth_of(rule) if kind else 0


def plan_depth(rules):
    """The paid depth of a plan (SPEC 6: rank differential and peer count)."""
    return max((rule_depth(rule) for rule in rules), default=0)


def check_plan(rules, acknowledged=False):
    """Refuse a plan SPEC section 6 does not allow; :return: its depth.

    - depth above 3, or above 2 without the manager's acknowledgement;
    - negative rates or amounts, rates above 100%;
    - percentage rules of one base summing above 100% of that base;
    - region amounts that fall when the level rises (a differential needs them
      non-decreasing), rank amounts that fall when the rank rises;
    - whatever a kind's own ``check`` refuses.
    """
    for rule in rules:
        kind = kind_of(rule.kind)
        if rule.base not in BASES:
            raise CommissionError("unknown_base", base=rule.base)
        values = [rule.rate, rule.amount]
        values += list(rule.rank_amounts.values()) + list(rule.region_amounts.values())
        for value in values:
            if value is not None and value < 0:
                raise CommissionError("negative", rule=rule.rule_id)
            if isinstance(value, Fraction) and value > 1:
                raise CommissionError("rate_above_base", rule=rule.rule_id)
        if kind.walks_levels and rule.levels < 1:
            raise CommissionError("bad_levels", rule=rule.rule_id)
        for mapping, order in (
            (rule.rank_amounts, sorted(rule.rank_amounts)),
            (
                rule.region_amounts,
                [lvl for lvl in REGION_LEVELS if lvl in rule.region_amounts],
            ),
        ):
            amounts = [mapping[key] for key in order]
            if any(b < a for a, b in zip(amounts, amounts[1:], strict=False)):
                raise CommissionError("not_increasing", rule=rule.rule_id)
        if kind.check:
            kind.check(rule)
    totals = {}
    for rule in rules:
        if not KINDS[rule.kind].of_base:
            continue  # a share of other commissions, not of the base
        rates = [rule.rate] if rule.rate is not None else []
        rates += [
            max(v for v in mapping.values() if isinstance(v, Fraction))
            for mapping in (rule.rank_amounts, rule.region_amounts)
            if any(isinstance(v, Fraction) for v in mapping.values())
        ]
        for rate in rates:
            totals[rule.base] = totals.get(rule.base, 0) + rate
    for base, total in totals.items():
        if total > 1:
            raise CommissionError("rates_above_base", base=base, total=total)
    depth = plan_depth(rules)
    limit = DEPTH_ACKNOWLEDGED if acknowledged else DEPTH_DEFAULT
    if depth > limit:
        raise CommissionError(
            "depth", depth=depth, limit=limit, acknowledged=acknowledged
        )
    return depth


# ----------------------------------------------------------------------
# the built-in kinds' computations
# ----------------------------------------------------------------------
def _upline_lines(index):
    """The rule's value to the referrer ``index`` levels above the buyer's."""

    def lines(rule, order, ctx):
        upline = ctx["upline"]
        if len(upline) <= index:
            return []
        value = floor(rule_value(rule, order))
        return [
            Line(rule.rule_id, rule.kind, upline[index].member_id, value, index + 1)
        ]

    return lines


def _differential_lines(rule, order, members, amounts, detail):
    """Each payee gets its level's amount less what the ones before got."""
    lines, paid = [], Fraction(0)
    for level, member_id, key in members:
        if member_id is None or key not in amounts:
            continue
        due = value_of(amounts[key], rule, order)
        if due > paid:
            value = floor(due) - floor(paid)
            lines.append(
                Line(rule.rule_id, rule.kind, member_id, value, level, detail(key))
            )
            paid = due
    return lines


def _rank_lines(rule, order, ctx):
    members = [
        (index + 1, up.member_id, up.rank_level)
        for index, up in enumerate(ctx["upline"][: rule.levels])
    ]
    return _differential_lines(
        rule, order, members, rule.rank_amounts, lambda key: f"rank {key}"
    )


def _regional_lines(rule, order, ctx):
    members = [(0, ctx["regions"].get(level), level) for level in REGION_LEVELS]
    return _differential_lines(
        rule, order, members, rule.region_amounts, lambda key: key
    )


def _fixed_member_lines(key):
    def lines(rule, order, ctx):
        if ctx[key] is None:
            return []
        value = floor(rule_value(rule, order))
        return [Line(rule.rule_id, rule.kind, ctx[key], value)]

    return lines


def _dividend_lines(rule, order, ctx):
    return [Line(rule.rule_id, rule.kind, None, floor(rule_value(rule, order)))]


def _peer_lines(rule, order, ctx):
    """One level: the referrer right above an earner of the same rank gets a
    share of what the earner made on this order, never above ``rule.levels``."""
    upline = ctx["upline"]
    rate = rule.rate if rule.rate is not None else Fraction(0)
    earned = {}  # upline index -> what it earned on this order
    for line in ctx["lines"]:
        if line.kind in rule.peer_kinds and line.level:
            earned[line.level - 1] = earned.get(line.level - 1, 0) + line.amount
    out = []
    for index in sorted(earned):
        above = index + 1
        if above >= min(len(upline), rule.levels):
            continue
        rank = upline[index].rank_level
        if rank and upline[above].rank_level == rank:
            out.append(
                Line(
                    rule.rule_id,
                    rule.kind,
                    upline[above].member_id,
                    floor(rate * earned[index]),
                    level=above + 1,
                    detail=f"peer of level {index + 1}",
                )
            )
    return out


_ON_UPLINE = frozenset({UPLINE})

for _kind in (
    RuleKind(DIRECT, _upline_lines(0), RISK_REFERRAL, _ON_UPLINE, depth=1),
    RuleKind(INDIRECT, _upline_lines(1), RISK_REFERRAL, _ON_UPLINE, depth=2),
    RuleKind(
        RANK_DIFFERENTIAL,
        _rank_lines,
        RISK_TEAM,
        _ON_UPLINE,
        walks_levels=True,
        tiers=TIER_RANK,
    ),
    RuleKind(
        PEER,
        _peer_lines,
        RISK_TEAM,
        _ON_UPLINE,
        walks_levels=True,
        after=True,
        of_base=False,
        value_types=("rate",),
    ),
    RuleKind(
        REGIONAL,
        _regional_lines,
        RISK_TERRITORY,
        frozenset({REGIONS}),
        tiers=TIER_REGION,
    ),
    RuleKind(
        SERVICE_POINT,
        _fixed_member_lines("service_point"),
        RISK_SERVICE,
        frozenset({SERVICE_POINT_MEMBER}),
    ),
    RuleKind(
        MERCHANT,
        _fixed_member_lines("store_recruiter"),
        RISK_MERCHANT,
        frozenset({STORE_RECRUITER}),
    ),
    RuleKind(DIVIDEND, _dividend_lines, RISK_DIVIDEND, into_dividend_pool=True),
):
    register_kind(_kind)
del _kind


def compute(
    rules,
    order,
    upline,
    regions=None,
    service_point=None,
    store_recruiter=None,
):
    """The commission lines of one order.

    :param rules: the plan's :class:`Rule` list (checked with :func:`check_plan`)
    :param order: :class:`Order`
    :param upline: :class:`Upline` list, nearest referrer first
    :param regions: ``{region level: agent member id}`` of the delivery address
    :param service_point: member id of the service point that verified pickup
    :param store_recruiter: member id of whoever recruited the order's store
    :return: list of :class:`Line`, zero amounts left out; the ``after``
        kinds' lines (peer bonuses) last
    """
    lines = []
    ctx = {
        "upline": upline,
        "regions": regions or {},
        "service_point": service_point,
        "store_recruiter": store_recruiter,
        "lines": lines,
    }
    for after in (False, True):
        for rule in rules:
            kind = KINDS.get(rule.kind)
            if kind is not None and kind.after == after:
                lines.extend(kind.lines(rule, order, ctx))
    return [line for line in lines if line.amount > 0]


def distribute_dividend(amount, shares, members):
    """Share a dividend pool among ranks, then among each rank's members.

    :param amount: money in the pool (minor units)
    :param shares: ``{rank level: Fraction}`` (e.g. 董事 30%, 联创 30%, 合伙人 40%)
    :param members: ``{rank level: {member id: weight}}``; equal weights share
        equally, volumes give a volume-weighted split
    :return: ``({member id: amount}, kept)``: every payout floored; ``kept`` is
        what stays in the pool (dust, and the share of a rank without members)
    """
    if amount < 0:
        raise CommissionError("negative", amount=amount)
    if sum(shares.values(), Fraction(0)) > 1:
        raise CommissionError("shares_above_pool", total=sum(shares.values()))
    payouts = {}
    for level, share in shares.items():
        weights = {m: Fraction(w) for m, w in members.get(level, {}).items() if w > 0}
        total = sum(weights.values(), Fraction(0))
        if not total:
            continue
        for member, weight in weights.items():
            payouts[member] = payouts.get(member, 0) + floor(
                amount * share * weight / total
            )
    return payouts, amount - sum(payouts.values())


def reverse(lines, fraction, already=Fraction(0)):
    """Reversal lines for a refund of ``fraction`` of the order, exactly once.

    ``already`` is the fraction refunded before; the reversal brings each line
    to ``floor(amount * (1 - already - fraction))`` so that repeated partial
    refunds never reverse more than the line paid.

    :return: list of :class:`Line` with negative amounts
    """
    if not 0 <= already <= 1 or not 0 <= fraction <= 1 - already:
        raise CommissionError("bad_fraction", fraction=fraction, already=already)
    out = []
    for line in lines:
        before = floor(line.amount * (1 - already))
        after = floor(line.amount * (1 - already - fraction))
        if before != after:
            out.append(
                Line(
                    line.rule_id,
                    line.kind,
                    line.member_id,
                    after - before,
                    line.level,
                    line.detail,
                )
            )
    return out
