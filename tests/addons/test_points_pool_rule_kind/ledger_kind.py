"""A goodwill credit: money the shop gives a member's wallet as a gesture,
booked against the revenue contra.  One ledger-kind definition (and the
``selection_add`` in ``models.py``); points_pool is not edited for it."""

from odoo.addons.points_pool.core import ledger

GOODWILL = "goodwill"

ledger.register(
    ledger.LedgerKind(GOODWILL, "Goodwill credit", counterpart=ledger.CONTRA)
)
