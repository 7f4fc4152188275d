"""A customer's checkout, the way the pool sees it: one sale order confirmed,
invoiced, posted and paid through Odoo's own documents.

The demo data, the tests (``tests/common.py``), the benchmark and the load test
all sell through these functions, so a change of the checkout (a new step, a
field every order needs) is made here once.  Products must be invoiced on
order (``invoice_policy = "order"``): nothing is delivered.

``lines`` is a list of ``(product, amount)`` or ``(product, amount, qty)``,
``amount`` being the line's total without taxes (``price_unit = amount / qty``,
no taxes); a dict is taken as the line's values as is.

Usage::

    from odoo.addons.points_pool.tools.order_flow import sell

    order, invoice = sell(env, partner, [(product, 1000.0)])
    # the steps apart (a benchmark times each one):
    order = place_order(env, partner, [(product, 1000.0)], confirm=False)
    order.action_confirm()
    register_payment(invoice_order(order))
"""

from odoo import Command


def line_vals(line):
    """``sale.order.line`` values of one item of ``lines`` (see the module doc)."""
    if isinstance(line, dict):
        return line
    product, amount, *rest = line
    qty = rest[0] if rest else 1.0
    return {
        "product_id": product.id,
        "product_uom_qty": qty,
        "price_unit": amount / qty,
        "tax_id": [Command.clear()],
    }


def order_vals(partner, lines, company=None, **vals):
    """``sale.order`` values for ``partner`` (for a batched ``create``);
    ``vals`` are more order fields (e.g. ``points_store_id``)."""
    values = {
        "partner_id": partner.id,
        "order_line": [Command.create(line_vals(line)) for line in lines],
        **vals,
    }
    if company:
        values["company_id"] = company.id
    return values


def place_order(env, partner, lines, *, company=None, confirm=True, **vals):
    """Create the sale order of ``partner`` (in ``company``, default the
    environment's) and, unless ``confirm`` is false, confirm it."""
    orders = env["sale.order"]
    if company:
        orders = orders.with_company(company)
    order = orders.create(order_vals(partner, lines, company, **vals))
    if confirm:
        order.action_confirm()
    return order


def invoice_order(order):
    """Create and post the invoice of a confirmed ``order``."""
    invoice = order._create_invoices()
    invoice.action_post()
    return invoice


def register_payment(invoice, amount=None):
    """Pay ``invoice`` through the payment register (``account.payment.register``),
    in full unless ``amount`` (major units) is given; the payments."""
    register = invoice.env["account.payment.register"]
    if invoice.company_id != register.env.company:
        register = register.with_company(invoice.company_id)
    return (
        register.with_context(active_model="account.move", active_ids=invoice.ids)
        .create({"amount": amount} if amount else {})
        ._create_payments()
    )


def sell(env, partner, lines, *, company=None, pickup=False, pay=True, **vals):
    """Order, confirm, invoice, post and (unless ``pay`` is false) pay in full.

    :param pickup: verify the pickup at the order's service point (give
        ``points_service_point_id`` in ``vals``) between confirmation and invoice
    :return: ``(order, invoice)``
    """
    order = place_order(env, partner, lines, company=company, **vals)
    if pickup:
        order.action_points_verify_pickup()
    invoice = invoice_order(order)
    if pay:
        register_payment(invoice)
    return order, invoice
