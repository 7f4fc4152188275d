"""18.0.1.8.0: the pool's accounts and journals are chart-template data.

Records made by earlier versions get the template's xmlids
(``account.<company>_<key>``), so that a chart (re)load finds them instead of
creating a second account with the same code.
"""

from odoo import SUPERUSER_ID, api

from odoo.addons.points_pool.models.account_chart_template import (
    POOL_ACCOUNTING_FIELDS,
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    IrModelData = env["ir.model.data"]
    adopt = []
    for pool in env["points.pool"].with_context(active_test=False).search([]):
        for field, key in POOL_ACCOUNTING_FIELDS.items():
            xmlid = f"account.{pool.company_id.id}_{key}"
            if pool[field] and not env.ref(xmlid, raise_if_not_found=False):
                adopt.append({"xml_id": xmlid, "record": pool[field], "noupdate": True})
    if adopt:
        IrModelData._update_xmlids(adopt)
    env["points.pool"].with_context(active_test=False).search([])._setup_accounting()
