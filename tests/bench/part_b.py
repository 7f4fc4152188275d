"""(b) Checkout cost.  --orders sale orders confirmed, invoiced and paid (payment
register) with the pool active against as many with the pool inactive, in
interleaved batches (A B B A ...): ratio of the times (goal <= 1.05).  Also the
SQL queries of one confirmation and of one payment registration in each state.
"""

import time

from . import checkout
from .harness import count_queries, interleaved, ms, report, transaction


def _set_active(registry, pool_id, active):
    with transaction(registry) as env:
        pool = env["points.pool"].browse(pool_id)
        if pool.active != active:
            pool.write({"active": active})


def _checkout_counts(registry, ids):
    """Queries of one confirmation, invoice and payment, pool active / inactive."""
    counts = {}
    for active in (True, False, True, False):  # the second round is warm
        _set_active(registry, ids["pool_A"], active)
        with transaction(registry) as env:
            pool = env["points.pool"].browse(ids["pool_A"])
            partner = env["res.partner"].browse(ids["buyers"][0])
            product = env["product.product"].browse(ids["product"])
            order = checkout.draft_orders(env, pool.company_id, partner, product)
        with transaction(registry) as env:
            _ignored, confirm = count_queries(
                env.cr, checkout.confirm, order.with_env(env)
            )
        with transaction(registry) as env:
            invoice, post = count_queries(env.cr, checkout.invoice, order.with_env(env))
        with transaction(registry) as env:
            _ignored, pay = count_queries(env.cr, checkout.pay, invoice.with_env(env))
        results = (confirm, post, pay)
        counts[active] = tuple(results)
    return counts


def _phase_checkout(registry, ids, orders, batch):
    """(b): confirm, invoice and pay with the pool active / inactive, interleaved.

    Batches in the pattern A B B A A B B A ... cancel a linear drift.  Each
    order runs in its own transaction; draft creation and commits are not timed.
    """
    counts = _checkout_counts(registry, ids)
    buyers = ids["buyers"][1:]
    pattern = interleaved(orders, batch)
    elapsed = {True: 0.0, False: 0.0}
    done = {True: 0, False: 0}
    for index, pair in enumerate(pattern):
        for active in pair:
            size = min(batch, orders - done[active])
            with transaction(registry) as env:
                pool = env["points.pool"].browse(ids["pool_A"])
                partners = env["res.partner"].browse(
                    [buyers[(index * batch + k) % len(buyers)] for k in range(size)]
                )
                product = env["product.product"].browse(ids["product"])
                order_ids = checkout.draft_orders(
                    env, pool.company_id, partners, product
                ).ids
            _set_active(registry, ids["pool_A"], active)
            for order_id in order_ids:
                with transaction(registry) as env:
                    order = env["sale.order"].browse(order_id)
                    start = time.perf_counter()
                    checkout.confirm(order)
                    checkout.pay(checkout.invoice(order))
                    elapsed[active] += time.perf_counter() - start
            done[active] += size
    _set_active(registry, ids["pool_A"], True)
    with transaction(registry) as env:
        env.cr.execute(
            "SELECT COUNT(*) FROM points_lot WHERE pool_id = %s AND state = 'pending'",
            [ids["pool_A"]],
        )
        pending = env.cr.fetchone()[0]
    return counts, elapsed, done, pending


def _run_checkout(registry, args, ids):
    print(
        f"(b) checkout of {args.orders} orders, pool active / inactive...", flush=True
    )
    counts, elapsed, done, pending = _phase_checkout(
        registry, ids, args.orders, args.batch
    )
    for index, label in enumerate(("confirm", "invoice+post", "payment register")):
        on, off = counts[True][index], counts[False][index]
        report(
            f"queries of one {label}: active / inactive",
            f"{on} / {off}",
            f"{on / off:.2f}",
        )
    per_on, per_off = elapsed[True] / done[True], elapsed[False] / done[False]
    report(
        f"checkout of {done[True]} + {done[False]} orders: active / inactive",
        f"{elapsed[True]:.1f} s / {elapsed[False]:.1f} s",
    )
    report(
        "checkout per order: active / inactive",
        f"{ms(per_on)} / {ms(per_off)}",
        f"{per_on / per_off:.3f}",
    )
    report("pending lots written by the active batches", str(pending))


def run(registry, args, ids):
    _run_checkout(registry, args, ids)
