from odoo import _, fields, models

from .kind import FLAT_PER_ORDER, FLAT_UPLINE
from .ledger_kind import GOODWILL


class PointsCommissionKindMixin(models.AbstractModel):
    _inherit = "points.commission.kind.mixin"

    kind = fields.Selection(
        selection_add=[(FLAT_UPLINE, "Flat upline bonus")],
        ondelete={FLAT_UPLINE: "cascade"},
    )


class PointsPoolMove(models.Model):
    _inherit = "points.pool.move"

    kind = fields.Selection(
        selection_add=[(GOODWILL, "Goodwill credit")],
        ondelete={GOODWILL: "cascade"},
    )


class PointsCommissionPlan(models.Model):
    _inherit = "points.commission.plan"

    def _error_message(self, error):
        if error.code == FLAT_PER_ORDER:
            return _(
                "A flat upline bonus pays per order: its base is the order amount."
            )
        return super()._error_message(error)
