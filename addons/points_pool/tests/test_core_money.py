"""Money arithmetic moved out of the models into the pure core (issue 12,
item 4): the withdrawal split, the POS paid share, line costs and currency
conversion.  Worked examples and hypothesis properties, no ORM."""

from decimal import ROUND_HALF_UP
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase, tagged

from ..core import money
from ..core.credit import paid_share, withdrawal_split
from ..core.pool import refund_share

shares = st.fractions(0, 1, max_denominator=10**6)


@tagged("post_install", "-at_install")
class TestCoreMoney(BaseCase):
    # ------------------------------------------------------------------
    # the withdrawal split (models/points_withdrawal.py, SPEC 2)
    # ------------------------------------------------------------------
    def test_withdrawal_split_examples(self):
        # the seeds: 100.00 at 70 % cash, nothing frozen
        self.assertEqual(withdrawal_split(10000, Fraction(7, 10)), (7000, 3000, 0))
        # 10 % frozen first, then 70 % of the rest in cash
        self.assertEqual(
            withdrawal_split(10000, Fraction(7, 10), Fraction(1, 10)),
            (6300, 2700, 1000),
        )
        # halves go up: 0.05 at 70 % is 0.035, paid 0.04 in cash
        self.assertEqual(withdrawal_split(5, Fraction(7, 10)), (4, 1, 0))
        # all in cash, all frozen, nothing in cash
        self.assertEqual(withdrawal_split(999, 1), (999, 0, 0))
        self.assertEqual(withdrawal_split(999, Fraction(7, 10), 1), (0, 0, 999))
        self.assertEqual(withdrawal_split(999, 0), (0, 999, 0))

    @settings(max_examples=300, deadline=None)
    @given(amount=st.integers(1, 10**12), cash=shares, freeze=shares)
    def test_withdrawal_parts_add_up_to_the_amount(self, amount, cash, freeze):
        split = withdrawal_split(amount, cash, freeze)
        self.assertEqual(split.cash + split.credit + split.frozen, amount)
        self.assertTrue(all(part >= 0 for part in split))
        # each part is its share rounded half up: never off by more than half a unit
        self.assertLessEqual(abs(split.frozen - amount * freeze), Fraction(1, 2))
        paid = amount - split.frozen
        self.assertLessEqual(abs(split.cash - paid * cash), Fraction(1, 2))

    # ------------------------------------------------------------------
    # the share of a POS order that earns now or later (pos_points_pool)
    # ------------------------------------------------------------------
    def test_paid_share_examples(self):
        # paid at the till only: all now, nothing later
        self.assertEqual(paid_share(50000, 0, 0, "now"), 1)
        self.assertEqual(paid_share(50000, 0, 0, "later"), 0)
        # 200 on the customer's account, 100 with points credit, 200 cash
        self.assertEqual(paid_share(50000, 20000, 10000, "now"), Fraction(2, 5))
        self.assertEqual(paid_share(50000, 20000, 10000, "later"), Fraction(2, 5))
        # all with points credit: nothing earns
        self.assertEqual(paid_share(50000, 0, 50000, "now"), 0)
        # a refund (negative total) with credit earns nothing
        self.assertEqual(paid_share(-50000, 0, -50000, "now"), 0)

    @settings(max_examples=300, deadline=None)
    @given(
        total=st.integers(1, 10**9),
        later_share=shares,
        spent_share=shares,
    )
    def test_paid_shares_never_exceed_the_order(self, total, later_share, spent_share):
        later = int(total * later_share)
        spent = min(int(total * spent_share), total - later)
        now = paid_share(total, later, spent, "now")
        after = paid_share(total, later, spent, "later")
        self.assertTrue(0 <= now <= 1 and 0 <= after <= 1)
        # what earns now, later, and what was paid with credit make the order
        self.assertEqual(now * total + after * total + spent, total)

    # ------------------------------------------------------------------
    # percentages and refund shares (withdrawals, contribution rates, refunds)
    # ------------------------------------------------------------------
    def test_percent_is_exact(self):
        self.assertEqual(money.percent(30.0), Fraction(3, 10))
        self.assertEqual(money.percent(0.1), Fraction(1, 1000))  # not binary 0.1
        # the checkout configuration hands the rate over as a fraction's text
        self.assertEqual(money.percent("25/2"), Fraction(1, 8))
        self.assertEqual(money.percent("30"), Fraction(3, 10))

    def test_refund_share(self):
        # a credit note of 50.00 of an invoice of 200.00 untaxed
        self.assertEqual(refund_share(Fraction(5000), Fraction(20000)), Fraction(1, 4))
        # refunds beyond the order reverse it once; nothing to refund: 0
        self.assertEqual(refund_share(30000, 20000), 1)
        self.assertEqual(refund_share(0, 20000), 0)
        self.assertEqual(refund_share(100, 0), 0)

    # ------------------------------------------------------------------
    # line costs and currency conversion (account_move.py, pos_points_pool)
    # ------------------------------------------------------------------
    def test_product_minor_is_exact(self):
        # the float product 0.145 * 3 = 0.43499999999999994 would round to 43
        self.assertEqual(money.product_minor(0.145, 3.0, 2), 44)
        self.assertEqual(money.product_minor(40.0, 2.0, 2), 8000)
        self.assertEqual(money.product_minor("33.333", 3, 2), 10000)
        # halves away from zero, as round_minor rounds an amount
        self.assertEqual(money.product_minor(0.125, -1.0, 2), -13)
        self.assertEqual(money.product_minor(0.125, 1.0, 2), 13)
        self.assertEqual(money.product_minor(1.0, 0.0, 0), 0)

    @settings(max_examples=300, deadline=None)
    @given(
        price=st.decimals(-(10**6), 10**6, places=4),
        quantity=st.decimals(-(10**4), 10**4, places=3),
        digits=st.integers(0, 3),
    )
    def test_product_minor_rounds_the_exact_product(self, price, quantity, digits):
        exact = (price * quantity).scaleb(digits)  # Decimal: exact at these sizes
        expected = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
        self.assertEqual(money.product_minor(price, quantity, digits), expected)
        self.assertEqual(
            money.product_minor(float(price), float(quantity), digits), expected
        )

    def test_convert_minor_examples(self):
        # same currency: the amount in minor units
        self.assertEqual(money.convert_minor(0.1, 1, 2), 10)
        # 100.00 USD at 2 USD per company unit: 50.00
        self.assertEqual(money.convert_minor(100.0, Fraction(2), 2), 5000)
        # halves go up (towards plus infinity), as the pool rounds shares
        self.assertEqual(money.convert_minor("10.01", 2, 2), 501)
        self.assertEqual(money.convert_minor("-10.01", 2, 2), -500)
        self.assertEqual(money.convert_minor(Fraction(10, 3), 1, 2), 333)
        self.assertEqual(money.half_up(Fraction(-1, 2)), 0)

    @settings(max_examples=300, deadline=None)
    @given(
        amount=st.decimals(-(10**9), 10**9, places=2),
        rate=st.fractions(Fraction(1, 1000), 1000, max_denominator=10**6),
    )
    def test_convert_minor_is_the_nearest_unit(self, amount, rate):
        digits = 2
        converted = money.convert_minor(amount, rate, digits)
        exact = Fraction(amount) / rate * 10**digits
        self.assertTrue(exact - Fraction(1, 2) < converted <= exact + Fraction(1, 2))
        # in the same currency an amount of ``digits`` decimals converts exactly
        self.assertEqual(
            money.convert_minor(amount, 1, digits), int(amount.scaleb(digits))
        )
