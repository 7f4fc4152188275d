"""A rule kind registered by this module (``kind.py``) is computed, guarded
and reported by points_pool without any edit there (issue 12, item 2).

Alice > Bob > Carol > Dave; the plan pays a flat 7.00 per order to each of the
buyer's first two referrers: Dave's order pays Carol and Bob, not Alice.
Every test ends with the pool's reconciliation (``PointsPoolCommon.tearDown``).
"""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.points_pool.core import commission as core
from odoo.addons.points_pool.models.points_commission_plan import RULE_KIND_SELECTION
from odoo.addons.points_pool.tests import test_commission

from ..kind import FLAT_UPLINE

LABEL = "Flat upline bonus"


@tagged("post_install", "-at_install")
class TestRegisteredRuleKind(test_commission.CommissionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["points.member"]._get_or_create(
            cls.pool, cls.alice | cls.bob | cls.carol | cls.dave
        )

    def _flat(self, **values):
        return {
            "kind": FLAT_UPLINE,
            "value_type": "fixed",
            "amount": 7.0,
            "levels": 2,
            **values,
        }

    def _scenario(self):
        self._chain(self.alice, self.bob, self.carol, self.dave)
        plan = self._plan([self._flat()])
        order, _invoice = self._buy(self.dave)
        return plan, order

    def test_registered_here_only(self):
        self.assertIn(FLAT_UPLINE, core.KINDS)
        self.assertNotIn(FLAT_UPLINE, dict(RULE_KIND_SELECTION))
        for model in ("points.commission.rule", "points.commission.line"):
            self.assertIn(
                (FLAT_UPLINE, LABEL), self.env[model]._fields["kind"].selection
            )

    def test_computed(self):
        plan, order = self._scenario()
        self.assertEqual(plan.depth, 2)
        lines = self._lines(order)
        self.assertEqual(
            self._by_partner(lines),
            {(FLAT_UPLINE, "Carol"): 7.0, (FLAT_UPLINE, "Bob"): 7.0},
        )
        self.assertEqual(
            sorted(lines.mapped(lambda line: (line.level, line.partner_id.name))),
            [(1, "Carol"), (2, "Bob")],
        )
        # journalized and credited like any commission (accounts by payee)
        self._post()
        self.assertEqual(
            self._entry_credits(
                lines.accrual_move_id, self.pool.commission_payable_account_id
            ),
            {"Carol": 7.0, "Bob": 7.0},
        )
        self._credit_due()
        self.assertEqual(self._member(self.carol).wallet_balance, 7.0)
        self.assertEqual(self._member(self.alice).commission_total, 0.0)

    def test_guarded(self):
        before = self.Plan.search_count([])
        with self.assertRefused(ValidationError, "rule pays a fixed amount"):
            self._plan([self._flat(value_type="rate", rate=1.0)], activate=False)
        with self.assertRefused(ValidationError, "at least one level"):
            self._plan([self._flat(levels=0)], activate=False)
        with self.assertRefused(ValidationError, "cannot be negative"):
            self._plan([self._flat(amount=-1.0)], activate=False)
        with self.assertRefused(ValidationError, "pays 3 levels"):
            self._plan([self._flat(levels=3)], activate=False)
        with self.assertRefused(ValidationError, "pays 4 levels"):
            self._plan([self._flat(levels=4)], acknowledged=True, activate=False)
        # the kind's own check (RuleKind.check) with the module's message
        with self.assertRefused(ValidationError, "its base is the order amount"):
            self._plan([self._flat(base="margin")], activate=False)
        self.assertEqual(self.Plan.search_count([]), before)
        # a third level once a manager acknowledged it
        plan = self._plan([self._flat(levels=3)], acknowledged=True, activate=False)
        self.assertEqual(plan.depth, 3)

    def test_reported(self):
        plan, _order = self._scenario()
        team = self.Plan._risk_tag_texts()[core.RISK_TEAM]
        # the plan report: its row with depth and risk tag, its referral pay
        (row,) = plan._get_report_rules()
        self.assertEqual((row["kind"], row["depth"], row["risk"]), (LABEL, 2, team))
        self.assertEqual(plan._get_reference_pay(), (1400, 100000))
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("points_pool.points_commission_plan_report", plan.ids)[0]
            .decode()
        )
        self.assertIn(LABEL, html)
        self.assertIn(team, html)
        # the compliance report: the mechanism, and its pay as referral pay
        figures = self.env["report.points_pool.compliance"]._get_figures(self.pool)
        self.assertIn({"name": LABEL, "risk": team, "rules": 1}, figures["mechanisms"])
        self.assertEqual(figures["members"]["referral"], 1400)
        self.assertEqual(figures["members"]["commission"], 1400)
        self.assertEqual(figures["ledger"]["max_level"], 2)
        self.assertEqual(figures["depth"], 2)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "points_pool.points_pool_compliance_report_html", self.pool.ids
            )[0]
            .decode()
        )
        self.assertIn(LABEL, html)
