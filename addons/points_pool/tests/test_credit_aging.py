from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .common import PointsPoolCommon


@tagged("post_install", "-at_install")
class TestCreditAging(PointsPoolCommon):
    """Issue 11: repurchase credit outstanding by member and age of the grant.
    Spends net of refunds use the oldest grants first (FIFO); the rows add up
    to the members' credit, the reconciliation's "GL repurchase credit"."""

    def setUp(self):
        super().setUp()
        self.pool.cash_share = 70.0
        self.Aging = self.env["points.credit.aging"]
        self._buy(self.alice, 5000.0)
        self._buy(self.bob, 5000.0)
        self.alice_member = self._member(self.alice)
        self.bob_member = self._member(self.bob)
        self._sell_line(self.alice_member, self.alice_member.points_free)
        self._sell_line(self.bob_member, self.bob_member.points_free)
        # Alice: 300 of credit 200 days ago, 120 of credit 40 days ago
        self.grant_old = self._grant(self.alice_member, 1000.0, days=200)
        self.grant_new = self._grant(self.alice_member, 400.0, days=40)
        # Bob: 30 of credit today
        self.grant_bob = self._grant(self.bob_member, 100.0)

    def _grant(self, member, amount, days=0):
        """Withdraw ``amount`` at 70/30: the ledger line granting the credit,
        dated ``days`` ago."""
        withdrawal = member._request_withdrawal(amount)
        withdrawal.action_approve()
        line = self.env["points.pool.move"].search(
            [("withdrawal_id", "=", withdrawal.id), ("credit", ">", 0)]
        )
        self.assertEqual(line.credit, withdrawal.credit_amount)
        if days:
            self.env.cr.execute(
                SQL(
                    "UPDATE points_pool_move SET date = %s WHERE id = %s",
                    fields.Datetime.now() - timedelta(days=days),
                    line.id,
                )
            )
            line.invalidate_recordset(["date"])
        return line

    def _rows(self, env=None):
        env = env or self.env
        return (
            env["points.credit.aging"]
            .search([("pool_id", "=", self.pool.id)])
            .grouped("grant_line_id")
        )

    def _outstanding(self):
        """``(old, new, Bob's)`` outstanding per grant."""
        self.env.flush_all()
        self.Aging.invalidate_model()
        rows = self._rows()
        return tuple(
            rows[grant].amount_outstanding
            for grant in (self.grant_old, self.grant_new, self.grant_bob)
        )

    def assertTotalIsTheCredit(self):
        self.env.flush_all()
        self.Aging.invalidate_model()
        total = sum(
            self.Aging.search([("pool_id", "=", self.pool.id)]).mapped(
                "amount_outstanding"
            )
        )
        members = self.env["points.member"].search([("pool_id", "=", self.pool.id)])
        self.assertAlmostEqual(total, sum(members.mapped("credit_balance")), places=2)
        self.assertAlmostEqual(total, self._gl(self.pool.credit_account_id), places=2)

    def test_spends_net_of_refunds_use_the_oldest_grants_first(self):
        self.assertEqual(self._outstanding(), (300.0, 120.0, 30.0))
        self.assertTotalIsTheCredit()
        # 350 spent: the old grant is used up, 50 of the new one
        invoice = self._invoice(self._order(self.alice, 500.0))
        invoice.action_points_pay(350.0)
        self.assertEqual(self._outstanding(), (0.0, 70.0, 30.0))
        self.assertTotalIsTheCredit()
        # half refunded: 175 comes back, the net 175 used only the old grant
        self._pay(invoice)
        self._refund(invoice, 250.0)
        self.assertEqual(self.alice_member.credit_balance, 245.0)
        self.assertEqual(self._outstanding(), (125.0, 120.0, 30.0))
        self.assertTotalIsTheCredit()
        # 200 more: net 375 used, 45 of the new grant left
        other = self._invoice(self._order(self.alice, 400.0))
        other.action_points_pay(200.0)
        self.assertEqual(self._outstanding(), (0.0, 45.0, 30.0))
        self.assertEqual(self.alice_member.credit_balance, 45.0)
        self.assertTotalIsTheCredit()
        # the rest of the invoice refunded: its other 175 comes back, the
        # net 200 used (the second invoice) takes from the old grant only
        self._refund(invoice, 250.0)
        self.assertEqual(self._outstanding(), (100.0, 120.0, 30.0))
        self.assertTotalIsTheCredit()
        # the member's figures
        member = self.alice_member
        member.invalidate_recordset()
        self.assertEqual(
            (
                member.credit_granted,
                member.credit_spent,
                member.credit_returned,
                member.credit_balance,
            ),
            (420.0, 550.0, 350.0, 220.0),
        )
        # the form's stat button: the member's spend and return lines
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_pool_move_action_credit"
        )
        lines = self.env["points.pool.move"].search(
            safe_eval(action["domain"]) + [("member_id", "=", member.id)]
        )
        self.assertEqual(
            sorted(lines.mapped("kind")),
            ["spend", "spend", "spend_refund", "spend_refund"],
        )
        self.assertEqual(sum(lines.mapped("credit")), -200.0)
        arch = member.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn(f'name="{action["id"]}"', arch)
        self.assertIn('name="credit_returned"', arch)

    def test_rows_by_age_bucket(self):
        rows = self._rows()
        old, new, bob = (
            rows[grant] for grant in (self.grant_old, self.grant_new, self.grant_bob)
        )
        today = fields.Date.today()
        self.assertEqual((old.age_days, old.age_bucket), (200, "4_181_365"))
        self.assertEqual((new.age_days, new.age_bucket), (40, "2_31_90"))
        self.assertEqual((bob.age_days, bob.age_bucket), (0, "1_0_30"))
        self.assertEqual(old.grant_date, today - timedelta(days=200))
        self.assertEqual(
            (
                old.member_id,
                old.partner_id,
                old.company_id,
                old.currency_id,
                old.amount_granted,
                old.withdrawal_id,
            ),
            (
                self.alice_member,
                self.alice,
                self.pool.company_id,
                self.pool.currency_id,
                300.0,
                self.grant_old.withdrawal_id,
            ),
        )
        # older than a year: the last bucket; the boundaries belong below
        for days, bucket in ((366, "5_over_365"), (365, "4_181_365"), (30, "1_0_30")):
            self.env.cr.execute(
                SQL(
                    "UPDATE points_pool_move SET date = %s WHERE id = %s",
                    fields.Datetime.now() - timedelta(days=days),
                    self.grant_bob.id,
                )
            )
            self.Aging.invalidate_model()
            self.assertEqual(self._rows()[self.grant_bob].age_bucket, bucket)
        # grouped by bucket, as the pivot and the graph show it
        invoice = self._invoice(self._order(self.alice, 500.0))
        invoice.action_points_pay(310.0)
        self.env.flush_all()
        groups = dict(
            self.Aging._read_group(
                [("pool_id", "=", self.pool.id)],
                ["age_bucket"],
                ["amount_outstanding:sum"],
            )
        )
        self.assertEqual(groups, {"1_0_30": 30.0, "2_31_90": 110.0, "4_181_365": 0.0})
        self.assertTotalIsTheCredit()

    def test_the_date_not_the_booking_order_decides_what_is_oldest(self):
        # the later booking dated earlier: it is used first
        self.env.cr.execute(
            SQL(
                "UPDATE points_pool_move SET date = %s WHERE id = %s",
                fields.Datetime.now() - timedelta(days=400),
                self.grant_new.id,
            )
        )
        invoice = self._invoice(self._order(self.alice, 500.0))
        invoice.action_points_pay(150.0)
        self.assertEqual(self._outstanding(), (270.0, 0.0, 30.0))
        self.assertTotalIsTheCredit()

    def test_only_accountants_of_the_company_see_the_report(self):
        accountant = new_test_user(
            self.env,
            login="pp_aging_accountant",
            groups="points_pool.points_pool_group_accountant",
            company_id=self.env.company.id,
        )
        self.assertEqual(len(self._rows(self.env(user=accountant))), 3)
        clerk = new_test_user(
            self.env,
            login="pp_aging_clerk",
            groups="points_pool.points_pool_group_user",
            company_id=self.env.company.id,
        )
        with self.assertRaises(AccessError):
            self.Aging.with_user(clerk).search([])
        manager_b = self._other_company_manager("pp_aging_manager_b")
        self.assertFalse(self.Aging.with_user(manager_b).search([]))
        self.assertFalse(
            self.Aging.with_user(manager_b).search_count(
                [("member_id", "=", self.alice_member.id)]
            )
        )
