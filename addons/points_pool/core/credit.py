"""Spending what members hold: repurchase credit and wallet money (pure Python).

Amounts are integers in the currency's minor units.  The ORM layer
(``models/points_spend.py``) locks the member, calls these rules and books one
ledger line and one entry per use.
"""

from fractions import Fraction
from math import floor

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
