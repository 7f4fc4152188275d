"""The flat upline bonus: a fixed amount per order to each of the buyer's
first ``levels`` referrers.  One definition, in the core's style (no ORM);
points_pool is not edited for it."""

from odoo.addons.points_pool.core import commission as core

FLAT_UPLINE = "flat_upline"
#: the kind's own guard: it pays per order, so its base is the order amount
FLAT_PER_ORDER = "flat_per_order"


def _lines(rule, order, ctx):
    value = core.floor(core.rule_value(rule, order))
    return [
        core.Line(rule.rule_id, rule.kind, up.member_id, value, level)
        for level, up in enumerate(ctx["upline"][: rule.levels], 1)
    ]


def _check(rule):
    if rule.base != "amount":
        raise core.CommissionError(FLAT_PER_ORDER, rule=rule.rule_id)


core.register_kind(
    core.RuleKind(
        FLAT_UPLINE,
        _lines,
        core.RISK_TEAM,
        frozenset({core.UPLINE}),
        walks_levels=True,
        value_types=("fixed",),
        check=_check,
    )
)
