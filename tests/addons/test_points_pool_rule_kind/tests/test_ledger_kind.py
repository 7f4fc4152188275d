"""A ledger kind registered by this module (``ledger_kind.py``) is journalized,
posted by the catch-up job and reconciled by points_pool without any edit there
(issue 12, item 2).  The pool's reconciliation runs after every test
(``PointsPoolCommon.tearDown``)."""

from odoo.tests import tagged

from odoo.addons.points_pool.core import ledger
from odoo.addons.points_pool.models.points_pool_move import LEDGER_KIND_SELECTION
from odoo.addons.points_pool.tests.common import PointsPoolCommon

from ..ledger_kind import GOODWILL


@tagged("post_install", "-at_install")
class TestRegisteredLedgerKind(PointsPoolCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({"name": "Goodwill member"})
        cls.member = cls.env["points.member"]._get_or_create(cls.pool, cls.partner)

    def _goodwill(self, amount):
        return self.pool._append_ledger(
            [{"kind": GOODWILL, "member_id": self.member.id, "wallet": amount}]
        )

    def test_registered_here_only(self):
        self.assertEqual(ledger.KINDS[GOODWILL].counterpart, ledger.CONTRA)
        self.assertNotIn(GOODWILL, dict(LEDGER_KIND_SELECTION))
        self.assertIn(
            (GOODWILL, "Goodwill credit"),
            self.env["points.pool.move"]._fields["kind"].selection,
        )

    def test_journalized_against_its_counterpart(self):
        line = self._goodwill(5.0)
        self.assertEqual(self.member.wallet_balance, 5.0)
        move = line._post_accounting()
        self.assertEqual(move.state, "posted")
        self.assertEqual(line.account_move_id, move)
        self.assertEqual(move.journal_id, self.pool.journal_id)
        balances = {
            (aml.account_id, aml.partner_id): aml.balance for aml in move.line_ids
        }
        self.assertEqual(
            balances,
            {
                (self.pool.wallet_account_id, self.partner): -5.0,
                (self.pool.contra_account_id, self.env["res.partner"]): 5.0,
            },
        )
        self.assertIn("Goodwill credit", move.line_ids[0].name)

    def test_posting_job_catches_up(self):
        line = self._goodwill(2.5)
        self.assertFalse(line.account_move_id)
        self.assertEqual(self.pool._post_unjournalized(), 1)
        self.assertEqual(line.account_move_id.amount_total, 2.5)
        self.assertEqual(self.pool._post_unjournalized(), 0)
