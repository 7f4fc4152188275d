"""18.0.1.2.0 adds commissions: existing pools get the Commissions journal and
the commission, frozen, dividend and expense accounts."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["points.pool"].with_context(active_test=False).search([])._setup_accounting()
