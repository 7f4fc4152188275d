"""(a) Exit processing does not scan members.  Pool A (main company) gets --lots open
positions by bulk SQL: partners, members and lots with their exit trigger price
(--exits of them minted near the initial price, so their triggers sit apart);
the pool's fund and supply are the sums over the lots.  Pool B (a second
company) gets 10.  (i) One order that triggers no exit, confirmed, invoiced,
paid and settled, in A and in B alternately (B A A B ...): ratios A/B of the
medians of the whole order and of the settlement alone, and of the settlement's
SQL queries (all should stay near 1).  (ii) An injection computed so that
exactly --exits lots become due in A: time of the cascade, exits counted in the
ledger, time and queries per exit.
"""

import statistics
import time
from math import ceil

from . import checkout
from .harness import count_sql, ms, report, transaction


def _phase_order_no_exit(registry, ids, repeat):
    """(a)(i): one order in A (100k positions) and in B (10), alternately.

    Each order runs in its own transaction; its settlement in another.
    """
    keys = ("order", "settle", "queries", "sql")
    times = {name: {key: [] for key in keys} for name in ("A", "B")}
    for run in range(repeat + 1):  # the first round warms caches up
        for name in ("A", "B") if run % 2 else ("B", "A"):
            pool_id = ids[f"pool_{name}"]
            with transaction(registry) as env:
                pool = env["points.pool"].browse(pool_id)
                partner = env["res.partner"].browse(ids[f"buyer_{name}"])
                product = env["product.product"].browse(ids["product"])
                order = checkout.draft_orders(env, pool.company_id, partner, product)
                exits_before = checkout.exit_count(env, pool_id)
            with transaction(registry) as env:
                order = order.with_env(env)
                start = time.perf_counter()
                checkout.confirm(order)
                checkout.pay(checkout.invoice(order))
                order_time = time.perf_counter() - start
            with transaction(registry) as env:
                pool = env["points.pool"].browse(pool_id)
                start = time.perf_counter()
                minted, queries, sql = count_sql(env.cr, checkout.settle, pool)
                settle_time = time.perf_counter() - start
                assert minted == 1, f"{name}: expected one lot minted, got {minted}"
                exits = checkout.exit_count(env, pool_id) - exits_before
                assert not exits, f"the order caused {exits} exits in {name}"
            if run:
                times[name]["order"].append(order_time + settle_time)
                times[name]["settle"].append(settle_time)
                times[name]["queries"].append(queries)
                times[name]["sql"].append(sql)
    return times


def _injection_for_exits(env, pool, exits):
    """Smallest injection (Decimal, major units) that makes ``exits`` lots due:
    the lots' exit triggers (``Lot.trigger``) and the money that lifts the
    price ``P / S`` to the ``exits``-th of them (``value_of`` the supply)."""
    from odoo.addons.points_pool.core.money import to_decimal, to_minor
    from odoo.addons.points_pool.core.pool import (
        LOT_OPEN,
        POINT_DIGITS,
        Lot,
        value_of,
    )

    params = pool._get_params()
    digits = params.digits
    cr = env.cr
    env.flush_all()
    cr.execute(
        "SELECT cap::text, realized::text, held::text FROM points_lot "
        "WHERE pool_id = %s AND state = 'open' ORDER BY trigger_price, id LIMIT %s",
        [pool.id, exits + 1],
    )
    triggers = sorted(
        Lot(
            0,
            None,
            0,
            0,
            to_minor(cap, digits),
            held=to_minor(held, POINT_DIGITS),
            realized=to_minor(realized, digits),
            state=LOT_OPEN,
        ).trigger(params)
        for cap, realized, held in cr.fetchall()
    )
    target, following = triggers[exits - 1], triggers[exits]
    cr.execute(
        "SELECT fund::text, supply::text FROM points_pool WHERE id = %s", [pool.id]
    )
    fund, supply = cr.fetchone()
    needed = value_of(to_minor(supply, POINT_DIGITS), target, params)
    return (
        to_decimal(ceil(needed - to_minor(fund, digits)), digits),
        target,
        following,
    )


def _phase_cascade(registry, pool_id, exits):
    """(a)(ii): one injection that makes exactly ``exits`` lots exit."""
    with transaction(registry) as env:
        pool = env["points.pool"].browse(pool_id)
        amount, target, following = _injection_for_exits(env, pool, exits)
        env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM points_pool_move")
        last_line = env.cr.fetchone()[0]
    # the injection runs as a pool event of its own (README "Concurrency"): the
    # pool row is held for the event; its journal entry is posted after the
    # event commits. Time both, and count the SQL of every cursor.
    from odoo.addons.points_pool.models import points_pool as pool_module

    journal = {"seconds": 0.0}
    post_entries = pool_module._journalize_after_commit

    def timed_post(*post_args):
        start = time.perf_counter()
        try:
            return post_entries(*post_args)
        finally:
            journal["seconds"] += time.perf_counter() - start

    pool_module._journalize_after_commit = timed_post
    try:
        with transaction(registry) as env:
            pool = env["points.pool"].browse(pool_id)
            start = time.perf_counter()
            _result, queries, sql = count_sql(env.cr, pool.action_inject, amount)
            env.flush_all()
            elapsed = time.perf_counter() - start
    finally:
        pool_module._journalize_after_commit = post_entries
    # a cascade's entry is left to the settlement job (the cron worker): run it
    with transaction(registry) as env:
        start = time.perf_counter()
        env["points.pool"]._cron_settle()
        journal["job"] = time.perf_counter() - start
    with transaction(registry) as env:
        env.cr.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE kind = 'exit') "
            "FROM points_pool_move WHERE pool_id = %s AND id > %s",
            [pool_id, last_line],
        )
        lines, count = env.cr.fetchone()
        price_after = env["points.pool"].browse(pool_id).price
    return {
        "amount": amount,
        "target": target,
        "following": following,
        "price_after": price_after,
        "seconds": elapsed,
        "exits": count,
        "queries": queries,
        "sql": sql,
        "lines": lines,
        "entry": journal["seconds"],
        "job": journal["job"],
    }


def _run_order_no_exit(registry, args, ids):
    print(f"(a)(i) one order without exit, {args.repeat} in each pool...", flush=True)
    times = _phase_order_no_exit(registry, ids, args.repeat)
    med = {
        name: {key: statistics.median(values) for key, values in data.items()}
        for name, data in times.items()
    }
    a, b = med["A"], med["B"]
    report(
        f"order, confirm to settled: A ({args.lots}) / B (10)",
        f"{ms(a['order'])} / {ms(b['order'])}",
        f"{a['order'] / b['order']:.2f}",
    )
    report(
        "settlement alone (one mint, no exit): A / B",
        f"{ms(a['settle'])} / {ms(b['settle'])}",
        f"{a['settle'] / b['settle']:.2f}",
    )
    report(
        "settlement SQL queries: A / B",
        f"{a['queries']:.0f} / {b['queries']:.0f}",
        f"{a['queries'] / b['queries']:.2f}",
    )
    report(
        "settlement time in SQL: A / B",
        f"{ms(a['sql'])} / {ms(b['sql'])}",
        f"{a['sql'] / b['sql']:.2f}",
    )


def _run_cascade(registry, args, ids):
    print(f"(a)(ii) injection making {args.exits} lots due in A...", flush=True)
    cascade = _phase_cascade(registry, ids["pool_A"], args.exits)
    exits = max(cascade["exits"], 1)
    report(
        "injection / price to reach / next trigger",
        f"{cascade['amount']} / {float(cascade['target']):.4f} / "
        f"{float(cascade['following']):.4f}",
    )
    report(
        "cascade: exits in ledger / lines / price after",
        f"{cascade['exits']} / {cascade['lines']} / {cascade['price_after']:.4f}",
    )
    report(
        "cascade: time total / per exit",
        f"{cascade['seconds']:.2f} s / {ms(cascade['seconds'] / exits)}",
    )
    held = cascade["seconds"] - cascade["entry"]
    report(
        "cascade: the caller's wait (the pool event, row held) / entry after commit",
        f"{held:.2f} s / {cascade['entry']:.2f} s",
    )
    report(
        "cascade: its entry, posted by the settlement job (cron worker)",
        f"{cascade['job']:.2f} s",
    )
    report(
        "cascade: SQL queries total / per exit",
        f"{cascade['queries']} / {cascade['queries'] / exits:.2f}",
    )
    report("cascade: time in SQL", f"{cascade['sql']:.2f} s")


def run(registry, args, ids):
    _run_order_no_exit(registry, args, ids)
    _run_cascade(registry, args, ids)
