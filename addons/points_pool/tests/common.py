from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from ..tools.order_flow import (
    invoice_order,
    place_order,
    register_payment,
    sell,
)


class PointsPoolCommon(AccountTestInvoicingCommon):
    """A company with a chart, a configured pool and helpers to run real orders.

    Later modules (commissions, POS) extend this base.  Pool parameters are the
    seeds': 30% contribution, 70% points ratio, 20% retention, 3x exit, no
    return window (minting happens when the settlement job runs).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= cls.env.ref("points_pool.points_pool_group_manager")
        cls.pool = cls.env["points.pool"]._get_company_pool(cls.env.company)
        cls.pool.write(
            {
                "contribution_rate": 30.0,
                "points_ratio": 70.0,
                "retention": 20.0,
                "exit_multiple": 3.0,
                "return_window_days": 0,
                "cash_share": 100.0,
            }
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Package 1000",
                "type": "consu",
                "list_price": 1000.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )
        cls.alice, cls.bob, cls.carol, cls.dave = cls.env["res.partner"].create(
            [{"name": name} for name in ("Alice", "Bob", "Carol", "Dave")]
        )

    def tearDown(self):
        # SPEC 5: after every test, the GL ties to the pool and the wallets
        self.assertPoolReconciles()
        super().tearDown()

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    # the checkout itself is the addon's one order flow (tools/order_flow.py)
    def _order(self, partner, amount=1000.0, product=None, qty=1.0):
        """A confirmed order of ``amount`` (without taxes) for ``partner``."""
        return place_order(self.env, partner, [(product or self.product, amount, qty)])

    def _invoice(self, order):
        return invoice_order(order)

    def _pay(self, invoice, amount=None):
        return register_payment(invoice, amount or invoice.amount_residual)

    @classmethod
    def _new_user(cls, login, groups, **values):
        """A user of the current company only, password = login (``start_tour``,
        ``authenticate``); ``values`` are more ``res.users`` fields."""
        company = cls.env.company
        return new_test_user(
            cls.env,
            login=login,
            password=login,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
            **values,
        )

    def _other_company_manager(self, login):
        """A points pool manager of a new "Company B" and of it only."""
        company_b = self.env["res.company"].create({"name": "Company B"})
        return new_test_user(
            self.env,
            login=login,
            groups="points_pool.points_pool_group_manager",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )

    def _settle(self):
        return self.pool._settle_due()

    def _buy(self, partner, amount=1000.0, settle=True, product=None, qty=1.0):
        """Confirm, invoice, pay and (by default) settle an order."""
        order, invoice = sell(
            self.env, partner, [(product or self.product, amount, qty)]
        )
        if settle:
            self._settle()
        return order, invoice

    def _sell_line(self, member, points):
        """Sell through the model and return the ``sell`` ledger line."""
        return member._sell(points).filtered(lambda line: line.kind == "sell")

    def _member(self, partner):
        return self.env["points.member"].search(
            [("pool_id", "=", self.pool.id), ("partner_id", "=", partner.id)]
        )

    def _refund(self, invoice, amount=None):
        """Post a credit note of ``amount`` (default: full) for ``invoice``."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "return"})
        )
        action = wizard.refund_moves()
        refund = self.env["account.move"].browse(action["res_id"])
        if amount is not None:
            refund.invoice_line_ids[0].price_unit = (
                amount / refund.invoice_line_ids[0].quantity
            )
        refund.action_post()
        # posting only queues the refund of points (applied right after the
        # commit in production, which a test never reaches): apply it now
        self.assertTrue(refund.points_refund_pending or not invoice.points_lot_ids)
        self.pool._process_refund_queue()
        self.assertFalse(refund.points_refund_pending)
        return refund

    def _gl(self, account):
        return float(self.pool._gl_balance(account))

    def assertPoolReconciles(self):
        """Fund, supply, wallets: pool row = ledger = lots = GL (SPEC 2 and 5)."""
        self.pool._settle_due()  # journalize pending lines of recent payments
        # and the commissions accrued by them (the posting job)
        self.env["points.commission.line"]._post_unposted(self.pool)
        problems = [row for row in self.pool._check_rows() if not row["ok"]]
        self.assertFalse(problems, f"pool does not reconcile: {problems}")
        self.assertAlmostEqual(
            self._gl(self.pool.pool_account_id), self.pool.fund, places=2
        )
        wallets = sum(
            self.env["points.member"]
            .search([("pool_id", "=", self.pool.id)])
            .mapped("wallet_balance")
        )
        self.assertAlmostEqual(self._gl(self.pool.wallet_account_id), wallets, places=2)
