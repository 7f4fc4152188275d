"""Conversions between database numerics and the core's integers.

Odoo hands NUMERIC columns to Python as floats; the pool never computes with
them.  Values are read from SQL as text (``fund::text``) or converted from the
float's shortest repr, which is exact for the scales used here.

=====================  ===================  =========
input                  call                 output
=====================  ===================  =========
``"1234.56"``          ``to_minor(v, 2)``   ``123456``
``123456``             ``to_decimal(v, 2)`` ``Decimal("1234.56")``
``Fraction(10, 7)``    ``ceil_decimal(v)``  ``Decimal("1.428571428572")``
``0.145, 3``           ``product_minor``    ``44`` (the float product rounds to 43)
``100, Fraction(2)``   ``convert_minor``    ``5000``
=====================  ===================  =========
"""

import math
from decimal import Decimal
from fractions import Fraction

HALF = Fraction(1, 2)


def to_minor(value, digits):
    """Integer count of ``10**-digits`` units in ``value`` (str, Decimal, int, float).

    Raises ``ValueError`` when ``value`` has more decimals than ``digits``: a
    silently rounded amount would hide a bug.
    """
    if value is None or value is False:
        return 0
    if isinstance(value, float):
        value = repr(value)
    scaled = Decimal(value).scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {digits} decimals")
    return int(scaled)


def round_minor(value, digits):
    """Like :func:`to_minor` but rounds half up, for user input in major units."""
    if isinstance(value, float):
        value = repr(value)
    scaled = Decimal(value).scaleb(digits)
    return int(scaled.to_integral_value(rounding="ROUND_HALF_UP"))


def parse_amount(value, digits):
    """Integer minor units of a user-given amount, rounded half up.

    Accepts an int, a finite float, a ``Decimal`` or a numeric string; refuses
    everything else (``True``, lists, ``"nan"``, ``"1e999"``) with
    ``ValueError``, so an RPC payload cannot pass a boolean or a nested list
    off as an amount.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except ArithmeticError as error:
        raise ValueError(f"not an amount: {value!r}") from error
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise ValueError(f"not an amount: {value!r}")
    return int(number.scaleb(digits).to_integral_value(rounding="ROUND_HALF_UP"))


def to_decimal(minor, digits):
    """``Decimal`` of an integer count of ``10**-digits`` units."""
    return Decimal(minor).scaleb(-digits)


def to_float(minor, digits):
    """Float for the ORM (which stores it back rounded to ``digits``)."""
    return float(to_decimal(minor, digits))


def ceil_decimal(value, digits=12):
    """Smallest decimal with ``digits`` places that is >= the fraction ``value``."""
    value = Fraction(value)
    return Decimal(math.ceil(value * 10**digits)).scaleb(-digits)


def fraction_of(value):
    """Exact fraction of a stored decimal (float repr, str or Decimal; an int
    or a ``Fraction`` is already exact)."""
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float):
        value = repr(value)
    return Fraction(Decimal(value))


def percent(value):
    """The share a percentage field stands for, exact (a stored decimal as
    :func:`fraction_of` takes it, or a fraction's text such as ``"61/2"``).

    >>> percent(70.0), percent("61/2"), percent(Fraction(25, 2))
    (Fraction(7, 10), Fraction(61, 200), Fraction(1, 8))
    """
    if isinstance(value, str) and "/" in value:
        return Fraction(value) / 100
    return fraction_of(value) / 100


def half_up(value):
    """The integer nearest to the exact number ``value``, halves up (towards
    plus infinity): ``floor(value + 1/2)``, the pool's rounding of shares.

    >>> half_up(Fraction(5, 2)), half_up(Fraction(-5, 2)), half_up(Fraction(7, 3))
    (3, -2, 2)
    """
    return math.floor(Fraction(value) + HALF)


def _half_away(value):
    """The integer nearest to ``value``, halves away from zero (as ``round_minor``)."""
    magnitude = math.floor(abs(value) + HALF)
    return magnitude if value >= 0 else -magnitude


def product_minor(price, quantity, digits):
    """Minor units of ``price x quantity`` (stored decimals), computed exactly
    and rounded half up like :func:`round_minor` (halves away from zero): a
    line's cost from the product's cost price.

    >>> product_minor(0.145, 3, 2)  # the float product 0.43499999999999994 rounds to 43
    44
    >>> product_minor("40.00", "2.5", 2), product_minor(0.125, -1, 2)
    (10000, -13)
    """
    return _half_away(fraction_of(price) * fraction_of(quantity) * 10**digits)


def convert_minor(amount, rate, digits):
    """Minor units of ``amount / rate``: an amount in major units of another
    currency (``rate`` of that currency per company unit, 1 for the same)
    converted exactly, rounded half up (:func:`half_up`).

    >>> convert_minor(100, Fraction(2), 2), convert_minor("10.01", 2, 2)
    (5000, 501)
    """
    return half_up(fraction_of(amount) / fraction_of(rate) * 10**digits)
