"""SPEC section 6 (compliance and honesty), without the ORM.

One place for the warnings that the pool banner, the commission plan report
and the compliance report show, and for the figures the compliance report
computes from the ledger.  Everything is exact: shares and ratios are
:class:`~fractions.Fraction`, money is integers of the currency's smallest
unit (see :mod:`.money`); floats are refused.

A warning is a ``(code, values)`` pair; the ORM layer turns the code into
translated text.  A risk tag is a code too (:data:`RISK_TAGS`).

=====================  =============================================  ==========
warning code           condition                                      values
=====================  =============================================  ==========
``static_return``      ``(1 - r) * m > 1``: a forced-out member gets  ``ratio``
                       more than the amount spent
``referral_pay``       referral pay above 10 % of an order            ``pay``,
                                                                      ``amount``,
                                                                      ``share``
``depth``              paid depth above 2 (``acknowledged`` tells     ``depth``,
                       whether a manager acknowledged a third level)  ``acknowledged``
``package_ranks``      a product grants a rank: ranks are sold        ``ranks``
=====================  =============================================  ==========
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from . import commission
from .pool import to_fraction

STATIC_RETURN = "static_return"
REFERRAL_PAY = "referral_pay"
DEPTH = "depth"
PACKAGE_RANKS = "package_ranks"

#: a static return above this is a warning (the seeds advise 1.2x at 80 %)
STATIC_RETURN_LIMIT = Fraction(1)
#: referral pay above this share of an order is a warning
REFERRAL_SHARE_LIMIT = Fraction(1, 10)
#: share of the members whose payouts the concentration figure adds up
TOP_SHARE = Fraction(1, 100)

# risk tags -----------------------------------------------------------------
# a commission kind's tag is its :attr:`commission.RuleKind.risk_tag`
RISK_REFERRAL = commission.RISK_REFERRAL
RISK_TEAM = commission.RISK_TEAM
RISK_TERRITORY = commission.RISK_TERRITORY
RISK_SERVICE = commission.RISK_SERVICE
RISK_MERCHANT = commission.RISK_MERCHANT
RISK_DIVIDEND = commission.RISK_DIVIDEND
RISK_POOL = "pool"
RISK_CREDIT = "credit"
RISK_VESTING = "vesting"

#: mechanisms of the pool itself (the commission kinds are mechanisms too)
POOL = "pool"
CREDIT = "repurchase_credit"
VESTING = "vesting"

#: pool mechanism -> risk tag
POOL_RISK_TAGS = {
    POOL: RISK_POOL,
    CREDIT: RISK_CREDIT,
    VESTING: RISK_VESTING,
}


class _RiskTags(Mapping):
    """Mechanism (a registered commission kind or a pool mechanism) -> risk
    tag, read from :data:`commission.KINDS` at each access."""

    def __getitem__(self, mechanism):
        if mechanism in POOL_RISK_TAGS:
            return POOL_RISK_TAGS[mechanism]
        return commission.KINDS[mechanism].risk_tag

    def __iter__(self):
        yield from commission.KINDS
        yield from POOL_RISK_TAGS

    def __len__(self):
        return len(commission.KINDS) + len(POOL_RISK_TAGS)


#: mechanism -> risk tag (the commission kinds' from their definitions)
RISK_TAGS = _RiskTags()


def referral_kinds():
    """Codes of the commission kinds paid up the referral tree: the referral
    pay of SPEC 6 (:attr:`commission.RuleKind.referral`), as a tuple (SQL)."""
    return tuple(code for code, kind in commission.KINDS.items() if kind.referral)


#: SPEC 6 "not built, by decision", in the order the reports list them
NOT_BUILT = (
    "breakaway",  # 链动2+1
    "unlimited_depth",  # 见点奖 at unlimited depth
    "spill_over",  # 三三滑落
    "turnover_shares",  # shareholder payouts from turnover
    "listed_shares",  # conversion of points into listed shares
    # the seeds' "health value" (健康值) variant
    "release_per_friend",  # locked points released faster per shared friend / ad watched
    "star_cultivation",  # star ranks that require "cultivating three 3-stars"
    "halving_issuance",  # halving issuance of tradable 健康积分 priced on a listed share
    "tip_rewards",  # merchant 打赏 rewards paid to both sides' referrers
)


def _share(value):
    """An exact share or multiple: Fraction, int, str or Decimal (no float)."""
    return to_fraction(value)


def ratio(part, whole):
    """``part / whole`` exactly, ``None`` when ``whole`` is 0."""
    return Fraction(part, 1) / whole if whole else None


# ----------------------------------------------------------------------
# warnings
# ----------------------------------------------------------------------
def static_return(retention, exit_multiple):
    """``(1 - r) * m``: what a forced-out member gets per unit spent (exact).

    :param retention: ``r`` as a share (``Fraction(1, 5)`` for 20 %)
    :param exit_multiple: ``m``
    """
    return (1 - _share(retention)) * _share(exit_multiple)


def static_return_warnings(retention, exit_multiple):
    value = static_return(retention, exit_multiple)
    if value > STATIC_RETURN_LIMIT:
        return [(STATIC_RETURN, {"ratio": value})]
    return []


def referral_share(pay, amount):
    """Referral pay as an exact share of the order, ``None`` for an empty order."""
    return ratio(pay, amount)


def above_referral_limit(pay, amount):
    """Does ``pay`` exceed 10 % of ``amount`` (integers, exact)?"""
    return amount > 0 and pay * REFERRAL_SHARE_LIMIT.denominator > (
        amount * REFERRAL_SHARE_LIMIT.numerator
    )


def referral_warnings(pay, amount):
    if above_referral_limit(pay, amount):
        return [
            (
                REFERRAL_PAY,
                {"pay": pay, "amount": amount, "share": referral_share(pay, amount)},
            )
        ]
    return []


def depth_warnings(depth, acknowledged=False):
    if depth > commission.DEPTH_DEFAULT:
        return [(DEPTH, {"depth": depth, "acknowledged": bool(acknowledged)})]
    return []


def package_warnings(ranks):
    ranks = list(ranks)
    return [(PACKAGE_RANKS, {"ranks": ranks})] if ranks else []


def pool_warnings(retention, exit_multiple, package_ranks=()):
    """Warnings of a pool's configuration (the pool form's banner)."""
    return static_return_warnings(retention, exit_multiple) + package_warnings(
        package_ranks
    )


def plan_warnings(
    depth,
    acknowledged,
    referral_pay,
    reference_amount,
    retention,
    exit_multiple,
    package_ranks=(),
):
    """Warnings of a commission plan on its company's pool, in report order:
    depth, referral pay on the reference order, static return, package ranks."""
    return (
        depth_warnings(depth, acknowledged)
        + referral_warnings(referral_pay, reference_amount)
        + pool_warnings(retention, exit_multiple, package_ranks)
    )


# ----------------------------------------------------------------------
# mechanisms and risk tags
# ----------------------------------------------------------------------
def risk_tag(mechanism):
    """The risk tag code of a mechanism (a commission kind or :data:`POOL`...)."""
    return RISK_TAGS[mechanism]


def enabled_mechanisms(rule_kinds=(), cash_share=1, vesting_rate=0):
    """``(mechanism, risk tag)`` of everything a configuration turns on.

    The pool always; the repurchase credit when withdrawals are not all cash
    (``cash_share < 1``); vesting when ``vesting_rate > 0``; then each
    commission kind of the active plan once, in :data:`commission.KINDS` order
    (registration order).
    """
    mechanisms = [POOL]
    if _share(cash_share) < 1:
        mechanisms.append(CREDIT)
    if _share(vesting_rate) > 0:
        mechanisms.append(VESTING)
    kinds = set(rule_kinds)
    unknown = kinds - set(commission.KINDS)
    if unknown:
        raise ValueError(f"unknown commission kinds: {sorted(unknown)}")
    mechanisms += [kind for kind in commission.KINDS if kind in kinds]
    return [(mechanism, RISK_TAGS[mechanism]) for mechanism in mechanisms]


# ----------------------------------------------------------------------
# figures of the compliance report, from plain ledger rows
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class MemberRow:
    """One member's totals from the ledger, in minor units.

    :param spent: basis of the member's lots (what the member consumed)
    :param pool_paid: payouts of the pool to the wallet (sales and forced
        exits, less refund debts)
    :param referral: referral pay received (:func:`referral_kinds`)
    :param commission: all commissions received (referral pay included)
    """

    member_id: int
    spent: int = 0
    pool_paid: int = 0
    referral: int = 0
    commission: int = 0

    @property
    def received(self):
        """Everything the programme paid the member: pool payouts and commissions."""
        return self.pool_paid + self.commission


@dataclass(frozen=True)
class TopShare:
    members: int  # size of the top group (ceiled, at least one)
    population: int
    paid: int  # what the top group received
    total: int  # what everyone received
    share: Fraction | None  # paid / total, None when nothing was paid


def top_share(amounts, share=TOP_SHARE):
    """Share of all payouts received by the top ``share`` of earners.

    The top group is ``ceil(share * n)`` members (at least one when there is
    anybody), ranked by what they received; ``n`` counts every member given,
    whether paid or not (the simulator's convention).
    """
    ranked = sorted(amounts, reverse=True)
    size = max(1, math.ceil(_share(share) * len(ranked))) if ranked else 0
    top, total = sum(ranked[:size]), sum(ranked)
    return TopShare(size, len(ranked), top, total, ratio(top, total))


@dataclass(frozen=True)
class SpendFigure:
    spenders: int  # members who spent something
    below: int  # received less than they spent
    recovered: int  # received at least what they spent
    earned: int  # received more than they spent
    below_share: Fraction | None
    recovered_share: Fraction | None
    earned_share: Fraction | None


def below_spend(rows):
    """Members below their spend: ``received < spent`` among those who spent.

    :param rows: :class:`MemberRow` iterable (or ``(spent, received)`` pairs)
    """
    pairs = [
        (row.spent, row.received) if isinstance(row, MemberRow) else tuple(row)
        for row in rows
    ]
    spenders = [(spent, received) for spent, received in pairs if spent > 0]
    below = sum(1 for spent, received in spenders if received < spent)
    earned = sum(1 for spent, received in spenders if received > spent)
    count = len(spenders)
    return SpendFigure(
        spenders=count,
        below=below,
        recovered=count - below,
        earned=earned,
        below_share=ratio(below, count),
        recovered_share=ratio(count - below, count),
        earned_share=ratio(earned, count),
    )


@dataclass(frozen=True)
class PayFigure:
    referral: int
    commission: int
    pool_paid: int
    referral_over_pool: Fraction | None  # referral pay / pool payouts
    commission_over_pool: Fraction | None  # all commissions / pool payouts
    referral_over_spent: Fraction | None  # referral pay / all spend
    commission_share: Fraction | None  # commissions / everything paid


def pay_vs_payouts(referral, commission_pay, pool_paid, spent=0):
    """Referral and commission pay against what the pool paid out (exact)."""
    return PayFigure(
        referral=referral,
        commission=commission_pay,
        pool_paid=pool_paid,
        referral_over_pool=ratio(referral, pool_paid),
        commission_over_pool=ratio(commission_pay, pool_paid),
        referral_over_spent=ratio(referral, spent),
        commission_share=ratio(commission_pay, commission_pay + pool_paid),
    )


def member_figures(rows):
    """Every member figure of the report from :class:`MemberRow` rows.

    :return: dict with ``spent``, ``pool_paid``, ``referral``, ``commission``
        totals, ``pay`` (:func:`pay_vs_payouts`), ``top`` (:func:`top_share` of
        what members received) and ``spend`` (:func:`below_spend`)
    """
    rows = list(rows)
    spent = sum(row.spent for row in rows)
    pool_paid = sum(row.pool_paid for row in rows)
    referral = sum(row.referral for row in rows)
    commission_pay = sum(row.commission for row in rows)
    return {
        "members": len(rows),
        "spent": spent,
        "pool_paid": pool_paid,
        "referral": referral,
        "commission": commission_pay,
        "received": pool_paid + commission_pay,
        "pay": pay_vs_payouts(referral, commission_pay, pool_paid, spent),
        "top": top_share(row.received for row in rows),
        "spend": below_spend(rows),
    }


def promised_at_exit(retention, open_gap):
    """What open lots would be paid at their cap: ``(1 - r) * sum(C - R)``.

    :param open_gap: ``sum(cap - realized)`` of the open lots, minor units
    """
    return (1 - _share(retention)) * open_gap
