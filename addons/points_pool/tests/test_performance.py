import logging

from odoo.tests import tagged

from .common import PointsPoolCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestPointsPoolQueryCount(PointsPoolCommon):
    """The pool's cost on the checkout path, counted in queries.

    Confirming a sale order does nothing for the pool; paying an invoice only
    inserts a pending lot and ledger line (no pool lock).  The benchmark in
    ``tests/benchmark.py`` measures time; this test guards the query budget.
    """

    def _count(self, callback):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        callback()
        self.env.flush_all()
        return self.cr.sql_log_count - before

    def _confirm_and_pay_counts(self):
        warm = self._order(self.bob)
        self._pay(self._invoice(warm))
        draft = self.env["sale.order"].create(
            {
                "partner_id": self.alice.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.product.id,
                            "price_unit": 1000.0,
                            "tax_id": [],
                        },
                    )
                ],
            }
        )
        confirm = self._count(draft.action_confirm)
        invoice = self._invoice(draft)
        pay = self._count(lambda: self._pay(invoice))
        return confirm, pay

    def test_query_budget_of_confirm_and_payment(self):
        self.pool.active = False
        confirm_off, pay_off = self._confirm_and_pay_counts()
        self.pool.active = True
        confirm_on, pay_on = self._confirm_and_pay_counts()
        _logger.info(
            "queries: confirm %s (pool off) / %s (pool on); payment %s / %s",
            confirm_off,
            confirm_on,
            pay_off,
            pay_on,
        )
        # the pool adds nothing to a confirmation and a bounded insert to a payment
        self.assertLessEqual(confirm_on - confirm_off, 4, (confirm_on, confirm_off))
        # payment: the pending lot and ledger line (about 10) and, for a first
        # purchase as here, the new member and its referral node (about 9)
        self.assertLessEqual(pay_on - pay_off, 24, (pay_on, pay_off))
        self.assertGreater(pay_on, pay_off, "the pending lot is booked at payment")

    def test_query_cost_of_referral_binding_at_confirm(self):
        """Orders without a code cost nothing extra; the first order with a code
        enrols and binds its customer once (a one-off cost, logged)."""
        self.env["points.member"]._get_or_create(self.pool, self.alice)
        code = self._member(self.alice).referral_code

        def draft(partner, referral_code=False):
            return self.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "points_referral_code": referral_code,
                    "order_line": [
                        (0, 0, {"product_id": self.product.id, "price_unit": 10.0})
                    ],
                }
            )

        self._order(self.dave)  # warm the caches
        plain = self._count(draft(self.bob).action_confirm)
        coded = draft(self.carol, code)
        binding = self._count(coded.action_confirm)
        again = self._count(draft(self.carol, code).action_confirm)
        _logger.info(
            "queries: confirm %s, first confirm with a code %s, later %s",
            plain,
            binding,
            again,
        )
        self.assertEqual(self._member(self.carol).referrer_id, self.alice)
        self.assertLessEqual(binding - plain, 30, (binding, plain))
        # once bound, a code on later orders costs a lookup and nothing else
        self.assertLessEqual(again - plain, 6, (again, plain))
