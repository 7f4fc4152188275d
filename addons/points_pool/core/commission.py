"""Commission computation, without the ORM (SPEC section 4; issue 4, in progress).

Given one order's bases, the buyer's upline (nearest first, with rank levels),
the agents of the delivery address's regions, the verified service point, the
store's recruiter and a plan (a list of :class:`Rule`), :func:`compute` returns
the commission lines.  Money is integers of the currency's smallest unit;
rates are ``Fraction``; every line is floored, so rounding never pays more than
the rule says.  Nothing here can pay per recruit or read recruit counts: the
only inputs are the order's amounts and positions in the tree.

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

from dataclasses import dataclass, field
from fractions import Fraction

#: kinds of rules; the ORM's selection uses the same keys
DIRECT = "direct"
INDIRECT = "indirect"
RANK_DIFFERENTIAL = "rank_differential"
PEER = "peer"
REGIONAL = "regional"
SERVICE_POINT = "service_point"
MERCHANT = "merchant"
DIVIDEND = "dividend"
KINDS = (
    DIRECT,
    INDIRECT,
    RANK_DIFFERENTIAL,
    PEER,
    REGIONAL,
    SERVICE_POINT,
    MERCHANT,
    DIVIDEND,
)

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
    :param kind: one of :data:`KINDS`
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


def _value(spec, rule, order):
    """A fixed amount (int) or a rate (Fraction) of the rule's base, exact."""
    if isinstance(spec, Fraction):
        return spec * _base(rule, order)
    if rule.base == "unit":
        return Fraction(spec) * _base(rule, order)
    return Fraction(spec)


def _rule_value(rule, order):
    spec = rule.rate if rule.rate is not None else rule.amount
    return _value(spec, rule, order) if spec is not None else Fraction(0)


def _floor(value):
    return int(value // 1)


def rule_depth(rule):
    """Upline levels a rule can pay: direct 1, indirect 2, rank differential
    and peer their ``levels``; the other kinds pay no upline."""
    return {
        DIRECT: 1,
        INDIRECT: 2,
        RANK_DIFFERENTIAL: rule.levels,
        PEER: rule.levels,
    }.get(rule.kind, 0)


def plan_depth(rules):
    """The paid depth of a plan (SPEC 6: rank differential and peer count)."""
    return max((rule_depth(rule) for rule in rules), default=0)


def check_plan(rules, acknowledged=False):
    """Refuse a plan SPEC section 6 does not allow; :return: its depth.

    - depth above 3, or above 2 without the manager's acknowledgement;
    - negative rates or amounts, rates above 100%;
    - percentage rules of one base summing above 100% of that base;
    - region amounts that fall when the level rises (a differential needs them
      non-decreasing), rank amounts that fall when the rank rises.
    """
    for rule in rules:
        if rule.kind not in KINDS:
            raise CommissionError("unknown_kind", kind=rule.kind)
        if rule.base not in BASES:
            raise CommissionError("unknown_base", base=rule.base)
        values = [rule.rate, rule.amount]
        values += list(rule.rank_amounts.values()) + list(rule.region_amounts.values())
        for value in values:
            if value is not None and value < 0:
                raise CommissionError("negative", rule=rule.rule_id)
            if isinstance(value, Fraction) and value > 1:
                raise CommissionError("rate_above_base", rule=rule.rule_id)
        if rule.kind in (RANK_DIFFERENTIAL, PEER) and rule.levels < 1:
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
    totals = {}
    for rule in rules:
        if rule.kind == PEER:
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


def _tree_lines(rule, order, ctx):
    index = 0 if rule.kind == DIRECT else 1
    upline = ctx["upline"]
    if len(upline) <= index:
        return []
    value = _floor(_rule_value(rule, order))
    return [Line(rule.rule_id, rule.kind, upline[index].member_id, value, index + 1)]


def _differential_lines(rule, order, ctx, members, amounts, detail):
    """Each payee gets its level's amount less what the ones before got."""
    lines, paid = [], Fraction(0)
    for level, member_id, key in members:
        if member_id is None or key not in amounts:
            continue
        due = _value(amounts[key], rule, order)
        if due > paid:
            value = _floor(due) - _floor(paid)
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
        rule, order, ctx, members, rule.rank_amounts, lambda key: f"rank {key}"
    )


def _regional_lines(rule, order, ctx):
    members = [(0, ctx["regions"].get(level), level) for level in REGION_LEVELS]
    return _differential_lines(
        rule, order, ctx, members, rule.region_amounts, lambda key: key
    )


def _fixed_member_lines(key):
    def lines(rule, order, ctx):
        if ctx[key] is None:
            return []
        value = _floor(_rule_value(rule, order))
        return [Line(rule.rule_id, rule.kind, ctx[key], value)]

    return lines


def _dividend_lines(rule, order, ctx):
    return [Line(rule.rule_id, rule.kind, None, _floor(_rule_value(rule, order)))]


def _peer_lines(rule, lines, upline):
    """One level: the referrer right above an earner of the same rank gets a
    share of what the earner made on this order, never above ``rule.levels``."""
    rate = rule.rate if rule.rate is not None else Fraction(0)
    earned = {}  # upline index -> what it earned on this order
    for line in lines:
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
                    _floor(rate * earned[index]),
                    level=above + 1,
                    detail=f"peer of level {index + 1}",
                )
            )
    return out


_KIND_LINES = {
    DIRECT: _tree_lines,
    INDIRECT: _tree_lines,
    RANK_DIFFERENTIAL: _rank_lines,
    REGIONAL: _regional_lines,
    SERVICE_POINT: _fixed_member_lines("service_point"),
    MERCHANT: _fixed_member_lines("store_recruiter"),
    DIVIDEND: _dividend_lines,
}


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
    :return: list of :class:`Line`, zero amounts left out; peer bonuses last
    """
    ctx = {
        "upline": upline,
        "regions": regions or {},
        "service_point": service_point,
        "store_recruiter": store_recruiter,
    }
    lines = []
    for rule in rules:
        if rule.kind in _KIND_LINES:
            lines.extend(_KIND_LINES[rule.kind](rule, order, ctx))
    for rule in rules:
        if rule.kind == PEER:
            lines.extend(_peer_lines(rule, lines, upline))
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
            payouts[member] = payouts.get(member, 0) + _floor(
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
        before = _floor(line.amount * (1 - already))
        after = _floor(line.amount * (1 - already - fraction))
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
