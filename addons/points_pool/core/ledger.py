"""The kinds of ledger line, one registered definition each (SPEC 2, 5).

A kind says what its line means to the accounts, in one place: who posts its
entry, which account balances the liabilities it moves, and whether its
wallet part is paid by an entry of its own.  The ledger model, its entries,
the posting job and the reconciliation read these definitions; none of them
names a kind.

Another addon adds a kind with one :func:`register` call and the matching
``selection_add`` on ``points.pool.move.kind`` (the label users see):

>>> _ = register(LedgerKind("bonus", "Bonus", counterpart=CONTRA))
>>> KINDS["bonus"].counterpart == CONTRA
True
>>> "bonus" in codes(posted_by=POOL)
True
>>> _ = KINDS.pop("bonus")  # (this example only)
"""

from dataclasses import dataclass

#: who posts a line's entry (``LedgerKind.posted_by``)
POOL = "pool"  # the pool journal's entry of the event
COMMISSIONS = "commissions"  # the Commissions journal's own entry
NOBODY = "nobody"  # the line moves no money

#: the account that balances the liabilities a line moves (``counterpart``)
CONTRA = "contra"  # the revenue contra: money the orders put in or take back
INJECTION = "injection"  # the pool's injection setting: marketing expense or contra


@dataclass(frozen=True)
class LedgerKind:
    """One kind of ledger line.

    :param code: the value of ``points.pool.move.kind``
    :param label: its English label (translated through the selection)
    :param posted_by: :data:`POOL`, :data:`COMMISSIONS` or :data:`NOBODY`
    :param counterpart: :data:`CONTRA`, :data:`INJECTION` or ``None`` (the
        liabilities balance among themselves and the bank)
    :param wallet_by_payment: the line's wallet part is paid out by an entry of
        its own (a withdrawal's outbound payment); its entry books only the
        credit and frozen parts
    """

    code: str
    label: str
    posted_by: str = POOL
    counterpart: str | None = None
    wallet_by_payment: bool = False


#: code → definition, in the order of the selection
KINDS = {}


def register(kind):
    """Register (or replace) the definition of ``kind.code``; return it."""
    if kind.posted_by not in (POOL, COMMISSIONS, NOBODY):
        raise ValueError(f"unknown poster {kind.posted_by!r} of {kind.code!r}")
    if kind.counterpart not in (None, CONTRA, INJECTION):
        raise ValueError(f"unknown counterpart {kind.counterpart!r} of {kind.code!r}")
    KINDS[kind.code] = kind
    return kind


def selection():
    """``[(code, label)]`` of the kinds registered so far."""
    return [(kind.code, kind.label) for kind in KINDS.values()]


def codes(**attributes):
    """The codes of the kinds whose attributes have these values.

    >>> codes(wallet_by_payment=True)
    ('withdrawal',)
    """
    return tuple(
        code
        for code, kind in KINDS.items()
        if all(getattr(kind, name) == value for name, value in attributes.items())
    )


for _kind in (
    LedgerKind("pending", "Pending inflow", counterpart=CONTRA),
    LedgerKind("pending_cancel", "Pending cancelled", counterpart=CONTRA),
    LedgerKind("mint", "Mint"),
    LedgerKind("sell", "Sell"),
    LedgerKind("exit", "Forced exit"),
    LedgerKind("inject", "Injection", counterpart=INJECTION),
    LedgerKind("release", "Vesting release", posted_by=NOBODY),
    LedgerKind("dormancy", "Dormancy"),
    LedgerKind("refund", "Refund", counterpart=CONTRA),
    LedgerKind("withdrawal", "Withdrawal", wallet_by_payment=True),
    LedgerKind("commission", "Commission", posted_by=COMMISSIONS),
    LedgerKind("unfreeze", "Frozen share released"),
    LedgerKind("spend", "Credit spent"),
    LedgerKind("spend_refund", "Credit returned"),
):
    register(_kind)
del _kind
