"""The pure rules of spending credit (``core/credit.py``): worked examples of
issue 11 and hypothesis properties (no ORM)."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.tests import BaseCase, tagged

from ..core.credit import SpendError, cash_share, check_spend, refund_return


@tagged("post_install", "-at_install")
class TestCoreCredit(BaseCase):
    def test_issue_example(self):
        # 300 credit on an order of 500 (cents)
        self.assertEqual(check_spend(30000, 30000, 50000), 30000)
        self.assertEqual(cash_share(50000, 30000), Fraction(2, 5))
        # a half refund (250 of 500) gives back 150 of the 300
        self.assertEqual(refund_return(30000, 0, 0, 25000, 50000), 15000)
        # the other half: the other 150, then nothing more
        self.assertEqual(refund_return(30000, 15000, 25000, 25000, 50000), 15000)
        self.assertEqual(refund_return(30000, 30000, 50000, 25000, 50000), 0)

    def test_refusals(self):
        for args, code in (
            ((0, 100, 100), "not_positive"),
            ((-1, 100, 100), "not_positive"),
            ((101, 100, 500), "more_than_held"),
            ((101, 500, 100), "more_than_due"),
        ):
            with self.subTest(args=args), self.assertRaises(SpendError) as caught:
                check_spend(*args)
            self.assertEqual(caught.exception.code, code)

    @settings(max_examples=300, deadline=None)
    @given(
        invoice=st.integers(1, 10**7),
        spent_share=st.fractions(0, 1),
        cuts=st.lists(st.integers(1, 1000), min_size=1, max_size=6),
    )
    def test_refunds_adding_up_to_the_invoice_return_exactly_what_was_spent(
        self, invoice, spent_share, cuts
    ):
        spent = int(invoice * spent_share)
        # split the invoice into refunds proportional to ``cuts`` (sum = invoice)
        total = sum(cuts)
        refunds = [invoice * cut // total for cut in cuts]
        refunds[-1] += invoice - sum(refunds)
        returned = before = 0
        for refund in refunds:
            back = refund_return(spent, returned, before, refund, invoice)
            self.assertGreaterEqual(back, 0)
            self.assertLessEqual(back, max(refund, 0))
            returned += back
            before += refund
            self.assertLessEqual(returned, spent)
        self.assertEqual(returned, spent)

    @settings(max_examples=300, deadline=None)
    @given(
        total=st.integers(0, 10**7),
        spent=st.integers(0, 10**7),
    )
    def test_cash_share_is_a_share(self, total, spent):
        share = cash_share(total, spent)
        self.assertTrue(0 <= share <= 1)
        if total and spent <= total:
            self.assertEqual(share * total + spent, total)
