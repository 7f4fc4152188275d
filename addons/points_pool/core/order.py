"""What every order source hands the pool: plain data, no ORM.

A sale invoice, a POS order or any later source describes a paid order with an
:class:`OrderInput`; the pool books it (pending lot, ledger line, commission
accruals) without reading the source's own models.  :func:`order_amounts` is
the pool's rule for an order's bases, the same for every source.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from .pool import floor, units_for

HALF = Fraction(1, 2)


@dataclass(frozen=True)
class OrderLine:
    """One line of a paid order, amounts in minor units of the company currency.

    :param rate: the contribution rate of the product (or of its category) as
        a share (``Fraction(1, 5)`` for 20 %), ``None`` for the pool's own rate
    :param cost: the line's cost, ``None`` when the margin is not needed
    """

    product_id: int | None
    quantity: Fraction
    untaxed: int
    cost: int | None = None
    rate: Fraction | None = None


@dataclass(frozen=True)
class OrderInput:
    """A paid order as the pool books it.

    :param key: idempotency key of the booking, unique among live lots
        (``"pos.order:<uuid>"``): a second booking with the same key is a no-op
    :param origin: what a refund names to reach this order's lots
        (``"account.move:<invoice id>"``, ``"pos.order:<uuid>"``)
    :param partner_id: the buyer's commercial partner (the member)
    :param basis: untaxed consumption, minor units
    :param inflow: the pool's share (see :func:`order_amounts`), minor units
    :param margin: untaxed amount minus cost, minor units (0 when unused)
    :param units: ``{product id: quantity}``
    :param store_id: the store partner that sold it (merchant recruitment)
    :param bind_store: a buyer enrolled by this order is bound to the store's owner
    :param service_point_id: where it is picked up; ``pickup_date`` once verified
    :param address_id: the delivery address partner (regional agents)
    :param res_model, res_id, ref: the source document, as the ledger shows it
    :param links: lot fields that link the source (``{"sale_order_id": 7}``)
    """

    key: str
    origin: str
    company_id: int
    partner_id: int
    basis: int
    inflow: int
    margin: int = 0
    units: dict = field(default_factory=dict)
    store_id: int | None = None
    bind_store: bool = False
    service_point_id: int | None = None
    pickup_date: datetime | None = None
    address_id: int | None = None
    res_model: str | None = None
    res_id: int | None = None
    ref: str = ""
    links: dict = field(default_factory=dict)

    @property
    def bookable(self):
        """Only orders that fund the pool are booked."""
        return self.basis > 0 and self.inflow > 0


def order_amounts(lines, default_rate, contribution_base="amount", share=1):
    """``(basis, inflow, margin, units)`` of an order's lines, minor units.

    Basis: Σ untaxed.  Inflow: Σ rate x base (the line's rate, else
    ``default_rate``; base: the untaxed amount, or the margin when
    ``contribution_base`` is ``"margin"``), rounded half up per order.
    ``share`` books a part of the order (what was paid of it, ``Fraction``):
    every amount is that share of the whole, rounded half up.
    """
    share = Fraction(share)
    basis, inflow, margin = 0, Fraction(0), 0
    units = defaultdict(Fraction)
    for line in lines:
        line_margin = max(line.untaxed - line.cost, 0) if line.cost is not None else 0
        base = line_margin if contribution_base == "margin" else line.untaxed
        rate = default_rate if line.rate is None else line.rate
        basis += line.untaxed
        inflow += Fraction(rate) * base
        margin += line_margin
        if line.product_id:
            units[line.product_id] += Fraction(line.quantity)
    return (
        floor(share * basis + HALF),
        floor(share * inflow + HALF),
        floor(share * margin + HALF),
        {product: share * qty for product, qty in units.items() if share * qty > 0},
    )


def estimate_points(inflow, price, params):
    """Points an order of ``inflow`` would mint at ``price`` (the core's rule
    for settlement; the price at settlement decides the real number)."""
    return units_for(params.points_ratio * inflow, price, params)
