"""18.0.1.4.0: lots carry what their order source said of the order.

The pool and the commissions no longer read sale orders: a lot now holds its
booking key (``source_key``, one live lot per key), the key its refunds name
(``origin_key``), its document's name, store, service point, pickup date,
delivery address, margin and products.  Existing lots get them from their
sale order and invoice, through the sale source's own adapter.
"""

import json

from odoo import SUPERUSER_ID, api

from odoo.addons.points_pool.core import money


def migrate(cr, version):
    cr.execute(
        """
        UPDATE points_lot l
           SET source_key = 'account.move:' || l.invoice_id || '/sale.order:' || l.sale_order_id,
               origin_key = 'account.move:' || l.invoice_id,
               source_ref = o.name,
               store_id = o.points_store_id,
               service_point_id = o.points_service_point_id,
               pickup_date = o.points_pickup_date,
               address_id = o.partner_shipping_id,
               margin = l.basis
          FROM sale_order o
         WHERE o.id = l.sale_order_id AND l.invoice_id IS NOT NULL AND l.source_key IS NULL
        """
    )
    # lots of no known source (imported): a key of their own
    cr.execute(
        "UPDATE points_lot SET source_key = 'points.lot:' || id WHERE source_key IS NULL"
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(
        "SELECT DISTINCT invoice_id, company_id FROM points_lot WHERE invoice_id IS NOT NULL"
    )
    by_company = {}
    for invoice_id, company_id in cr.fetchall():
        by_company.setdefault(company_id, []).append(invoice_id)
    Pool = env["points.pool"]
    for company_id, invoice_ids in by_company.items():
        config = Pool._get_checkout_config(company_id)
        if config is None:
            continue
        for start in range(0, len(invoice_ids), 1000):
            invoices = env["account.move"].browse(invoice_ids[start : start + 1000])
            for order in invoices._points_pool_order_inputs(config, margin=True):
                cr.execute(
                    "UPDATE points_lot SET margin = %s, units = %s::jsonb "
                    "WHERE source_key = %s",
                    (
                        money.to_decimal(order.margin, config["digits"]),
                        json.dumps({str(p): str(q) for p, q in order.units.items()}),
                        order.key,
                    ),
                )
