"""The checkout steps the parts time, each flushed so that its writes count in
its own time and queries: the addon's order flow
(``odoo.addons.points_pool.tools.order_flow``), step by step, and the
settlement job."""

from datetime import timedelta


def draft_orders(env, company, partners, product, amount=1000.0):
    """One draft order of ``amount`` per partner, in one ``create``."""
    from odoo.addons.points_pool.tools.order_flow import order_vals

    return (
        env["sale.order"]
        .with_company(company)
        .create(
            [order_vals(partner, [(product, amount)], company) for partner in partners]
        )
    )


def confirm(order):
    order.action_confirm()
    order.env.flush_all()


def invoice(order):
    from odoo.addons.points_pool.tools.order_flow import invoice_order

    posted = invoice_order(order)
    order.env.flush_all()
    return posted


def pay(invoice):
    from odoo.addons.points_pool.tools.order_flow import register_payment

    register_payment(invoice)
    invoice.env.flush_all()


def settle(pool):
    """The settlement job, past the return window: the lots minted."""
    from odoo import fields

    later = fields.Datetime.now() + timedelta(days=pool.return_window_days, minutes=1)
    minted = pool._settle_due(now=later)
    pool.env.flush_all()
    return minted


def exit_count(env, pool_id):
    env.cr.execute(
        "SELECT COUNT(*) FROM points_pool_move WHERE pool_id = %s AND kind = 'exit'",
        [pool_id],
    )
    return env.cr.fetchone()[0]
