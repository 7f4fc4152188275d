"""Spending what members hold: repurchase credit and wallet money (pure Python).

Amounts are integers in the currency's minor units.  The ORM layer
(``models/points_spend.py``) locks the member, calls these rules and books one
ledger line and one entry per use; ``models/points_withdrawal.py`` splits a
withdrawal with :func:`withdrawal_split`.
"""

from fractions import Fraction
from math import floor
from typing import NamedTuple

HALF = Fraction(1, 2)

#: the balances a member may pay with
FUNDS = ("credit", "wallet")


class SpendError(ValueError):
    """A use of credit or wallet money that must be refused (``code`` says why)."""

    def __init__(self, code, **values):
        super().__init__(code)
        self.code = code
        self.values = values


def check_spend(amount, available, residual):
    """Refuse a use of ``amount`` against ``available`` (what the member holds
    of that fund) for a document still owing ``residual``.

    :raises SpendError: ``"not_positive"``, ``"more_than_held"``,
        ``"more_than_due"``
    :return: ``amount``
    """
    if amount <= 0:
        raise SpendError("not_positive", amount=amount)
    if amount > available:
        raise SpendError("more_than_held", amount=amount, available=available)
    if amount > residual:
        raise SpendError("more_than_due", amount=amount, residual=residual)
    return amount


def cash_share(total, spent):
    """Share of a document of ``total`` paid otherwise than with ``spent``
    (credit and wallet money): ``Fraction`` in [0, 1]."""
    if total <= 0:
        return Fraction(1)
    return min(Fraction(1), max(Fraction(0), 1 - Fraction(spent, total)))


def refund_return(spent, returned, refunded_before, refund_total, invoice_total):
    """What a refund of ``refund_total`` of an invoice of ``invoice_total``
    returns of ``spent`` (credit or wallet money used on the invoice): the
    same share of that fund as of the invoice, cumulatively, so that refunds
    adding up to the invoice return exactly what was spent, once.

    ``refunded_before``: the totals of the invoice's earlier refunds;
    ``returned``: what they returned of this fund.  Rounded half up, never
    more than is left nor more than the refund itself.
    """
    if spent <= 0 or refund_total <= 0 or invoice_total <= 0:
        return 0
    covered = min(refunded_before + refund_total, invoice_total)
    target = min(spent, floor(Fraction(spent * covered, invoice_total) + HALF))
    return max(0, min(target - returned, refund_total, spent - returned))


def paid_share(total, later, spent, part):
    """Share of an order of ``total`` paid ``"now"`` (at the till) or
    ``"later"`` (``later``: on the customer's account), when ``spent`` of it
    was paid with credit or wallet money (which earns nothing): ``Fraction``
    in [0, 1].

    >>> paid_share(50000, 0, 0, "now"), paid_share(50000, 0, 0, "later")
    (Fraction(1, 1), Fraction(0, 1))
    >>> paid_share(50000, 20000, 10000, "now"), paid_share(50000, 20000, 10000, "later")
    (Fraction(2, 5), Fraction(2, 5))
    """
    if not later and not spent:
        return Fraction(1 if part == "now" else 0)
    if total <= 0:
        return Fraction(0)
    share = (
        Fraction(later, total)
        if part == "later"
        else Fraction(total - later - spent, total)
    )
    return min(max(share, Fraction(0)), Fraction(1))


class WithdrawalSplit(NamedTuple):
    """What an approved withdrawal becomes, minor units: ``cash + credit +
    frozen`` is the amount withdrawn."""

    cash: int
    credit: int
    frozen: int


def withdrawal_split(amount, cash_share, freeze_share=0):
    """Split a withdrawal of ``amount`` (minor units) as SPEC 2 does.

    First the frozen part (``freeze_share`` of the amount, kept until the
    member's sales conditions hold; 0 when they hold), then of the rest the
    cash part (``cash_share``, paid out) and the repurchase credit (what is
    left).  Shares are ``Fraction`` in [0, 1]; each part is rounded half up
    and never more than there is, so the parts add up to the amount exactly.

    >>> withdrawal_split(100000, Fraction(7, 10))  # 1000.00 at 70 % cash
    WithdrawalSplit(cash=70000, credit=30000, frozen=0)
    >>> withdrawal_split(100000, Fraction(7, 10), Fraction(1, 10))  # 10 % frozen
    WithdrawalSplit(cash=63000, credit=27000, frozen=10000)
    >>> withdrawal_split(1, Fraction(1, 2))  # the half cent is paid in cash
    WithdrawalSplit(cash=1, credit=0, frozen=0)
    """
    frozen = 0
    if freeze_share:
        frozen = min(floor(amount * Fraction(freeze_share) + HALF), amount)
    paid = amount - frozen
    cash = min(floor(paid * Fraction(cash_share) + HALF), paid)
    return WithdrawalSplit(cash, paid - cash, frozen)
