"""(f) The simulator and the public page (issue 13).  (i) core.simulator's steady
preset over 1,000 days x 20 orders (20,000 orders, half by returning
members), best and median of 3 runs (goal < 10 s), against the engine alone:
the same operations (recorded with record_ops) replayed through PoolEngine +
IndexedLotStore; and, on 100 days (the scan is quadratic), the simulator
against a replay through PoolEngine + MemoryLotStore, which scans every lot
for due ones.  (ii) /points/pool/<slug> with the page turned on for A (--lots
members) and B (10); both get ledger lines by SQL (a mint per lot, a sell per
tenth lot) for the page's sums and price chart.  The uncached figures
(points.pool._public_page_compute): p50 / p95 of 50 calls, A / B.  Then
"odoo --workers 2 --max-cron-threads 0" (ports 8191-8195, --db-filter on the
database, log next to the -c file) serves --requests GETs of each of A's
page, B's page and /web/login (vanilla Odoo's public page), shuffled over
--http-clients threads without cookies, after 10 untimed GETs each: p50 /
p95 of each (goal: A's p95 < 100 ms) and the ratios page / login; and 20
GETs of each right after a cache invalidation signaled through the database
(the workers drop their ormcaches: the figures are computed again), median
page / login.  The figures are otherwise cached per minute and worker.
"""

import statistics
import sys
import time

from . import web
from .harness import ms, p50_p95, report, timed, transaction

SIM_DAYS, SIM_ORDERS_PER_DAY, SIM_RUNS = 1000, 20, 3
#: days of the MemoryLotStore replay (it scans every lot for due ones)
SIM_SCAN_DAYS = 100
PAGE_RUNS = 50
COLD_GETS = 20


def _replay(params, ops, store_class):
    """The simulator's operations (``record_ops``) through a plain engine."""
    from odoo.addons.points_pool.core import simulator

    return simulator.replay(params, ops, store_class(params))


def _run_simulator():
    """(f)(i): core.simulator over 1,000 days x 20 orders, against the engine alone."""
    from odoo.addons.points_pool.core import simulator as sim
    from odoo.addons.points_pool.core.pool import MemoryLotStore, PoolParams

    orders = SIM_DAYS * SIM_ORDERS_PER_DAY
    print(f"(f)(i) simulator, {SIM_DAYS} days x {SIM_ORDERS_PER_DAY} orders...")
    params = PoolParams()
    scenario = sim.steady(days=SIM_DAYS, orders_per_day=SIM_ORDERS_PER_DAY)
    result, runs = timed(sim.simulate, scenario, params, runs=SIM_RUNS)
    summary = result.summary
    assert summary.orders == orders, summary.orders
    best, median = min(runs), statistics.median(runs)
    report(
        f"simulator, steady: {orders} orders over {SIM_DAYS} days "
        f"({summary.members} members, {summary.exits} exits), best / median of "
        f"{SIM_RUNS}",
        f"{best:.2f} s / {median:.2f} s (goal < 10 s)",
    )
    recorded = sim.simulate(scenario, params, record_ops=True)
    engine, replays = timed(
        _replay, params, recorded.ops, sim.IndexedLotStore, runs=SIM_RUNS
    )
    assert engine.state == recorded.state and engine.store.lots == recorded.lots
    report(
        f"  its {len(recorded.ops)} engine operations replayed alone "
        "(PoolEngine + IndexedLotStore): simulator / replay, best",
        f"{best:.2f} s / {min(replays):.2f} s",
        f"{best / min(replays):.2f}",
    )
    small = sim.steady(days=SIM_SCAN_DAYS, orders_per_day=SIM_ORDERS_PER_DAY)
    small_result, small_runs = timed(sim.simulate, small, params, runs=SIM_RUNS)
    recorded = sim.simulate(small, params, record_ops=True)
    engine, scan = timed(_replay, params, recorded.ops, MemoryLotStore)
    assert engine.state == small_result.state
    report(
        f"  {SIM_SCAN_DAYS * SIM_ORDERS_PER_DAY} orders ({SIM_SCAN_DAYS} days): "
        "simulator / replay through PoolEngine + MemoryLotStore (a scan per mint)",
        f"{ms(min(small_runs))} / {ms(scan[0])}",
        f"{min(small_runs) / scan[0]:.3f}",
    )


def _bulk_ledger(env, pool_id, sell_every=10):
    """Ledger lines for the bulk lots of ``pool_id`` by SQL: one mint per lot, a
    sell of half its units for every ``sell_every``-th lot, numbered after the
    pool's own lines; the price path rises from 1 to the pool's price.

    :return: lines inserted
    """
    cr = env.cr
    env.flush_all()
    cr.execute(
        "SELECT company_id, ledger_number, last_price FROM points_pool WHERE id = %s",
        [pool_id],
    )
    company_id, base, price = cr.fetchone()
    cr.execute(
        "SELECT COUNT(*) FROM points_lot WHERE pool_id = %s AND state = 'open'",
        [pool_id],
    )
    count = cr.fetchone()[0]
    params = {
        "pool": pool_id,
        "company": company_id,
        "base": base or 0,
        "n": count,
        "price": price,
        "every": sell_every,
    }
    lots = """
        WITH lots AS (
            SELECT l.*, row_number() OVER (ORDER BY l.id) AS k
              FROM points_lot l WHERE l.pool_id = %(pool)s AND l.state = 'open'
        )
    """
    columns = (
        "number, pool_id, company_id, member_id, partner_id, lot_id, kind, points, "
        "fund, reserve, pending, wallet, credit, price_before, price_after, date, "
        "create_uid, write_uid, create_date, write_date"
    )
    cr.execute(
        lots
        + f"INSERT INTO points_pool_move ({columns}) "
        + """
        SELECT %(base)s + k, %(pool)s, %(company)s, member_id, partner_id, id,
               'mint', minted, inflow, 0, -inflow, 0, 0,
               1 + (%(price)s - 1) * (k - 1) / %(n)s, 1 + (%(price)s - 1) * k / %(n)s,
               date_paid, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM lots ORDER BY k
        """,
        params,
    )
    mints = cr.rowcount
    cr.execute(
        lots
        + f"INSERT INTO points_pool_move ({columns}) "
        + """
        SELECT %(base)s + %(n)s + k / %(every)s, %(pool)s, %(company)s, member_id,
               partner_id, id, 'sell', -round(minted / 2, 4), -round(inflow / 2, 2),
               0, 0, round(inflow / 2, 2), 0, %(price)s, %(price)s,
               date_paid + interval '3 days', 1, 1, now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM lots WHERE k %% %(every)s = 0 ORDER BY k
        """,
        params,
    )
    lines = mints + cr.rowcount
    cr.execute(
        "UPDATE points_pool SET ledger_number = %s WHERE id = %s",
        [params["base"] + lines, pool_id],
    )
    cr.execute("ANALYZE points_pool_move")
    env.invalidate_all()
    return lines


def _page_compute_times(registry, pool_id, runs=PAGE_RUNS):
    """Seconds and queries of ``_public_page_compute`` (uncached), the first
    call (warm-up) left out; and the figures."""
    times, queries = [], []
    with transaction(registry) as env:
        Pool = env["points.pool"].sudo()
        for run in range(runs + 1):
            env.invalidate_all()
            before = env.cr.sql_log_count
            start = time.perf_counter()
            figures = Pool._public_page_compute(pool_id)
            if run:
                times.append(time.perf_counter() - start)
                queries.append(env.cr.sql_log_count - before)
    return times, queries, figures


def _members_check(count):
    """A check of a page's body: it shows ``count`` members."""
    import re

    pattern = re.compile(rb'o_points_public_members"[^>]*>\s*([0-9,]+)\s*<')

    def check(body):
        found = pattern.search(body)
        shown = found and int(found.group(1).replace(b",", b""))
        if shown != count:
            raise AssertionError(f"the page shows {shown} members, not {count}")

    return check


def _cold_gets(registry, base, targets, count=COLD_GETS):
    """Seconds of GETs each right after a cache invalidation signaled through
    the database (every worker drops its ``default`` ormcaches: the page's
    slugs and figures, access rights, ...), targets in turn."""
    session = web.new_session()
    times = {label: [] for label in targets}
    for _i in range(count):
        for label, (path, check) in targets.items():
            with transaction(registry) as env:
                env.cr.execute("SELECT nextval('base_cache_signaling_default')")
            times[label].append(web.get(session, base + path, check))
    return times


def _run_public_page(registry, args, ids):
    """(f)(ii): /points/pool/<slug> of pool A (--lots members) and of B (10)."""
    from pathlib import Path

    print(f"(f)(ii) public page of a pool of {args.lots} members...", flush=True)
    start = time.perf_counter()
    with transaction(registry) as env:
        lines = _bulk_ledger(env, ids["pool_A"])
        lines_b = _bulk_ledger(env, ids["pool_B"])
    report(
        "ledger lines for the page's sums and chart, A / B (one mint per lot, "
        "a sell per tenth lot, by SQL)",
        f"{lines} / {lines_b}, {time.perf_counter() - start:.1f} s",
    )
    with transaction(registry) as env:
        pools = env["points.pool"].browse([ids["pool_A"], ids["pool_B"]])
        pools.write({"public_page": True})
        slugs = dict(zip(("A", "B"), pools.mapped("public_slug"), strict=True))
    computed = {}
    for name in ("A", "B"):
        times, queries, figures = _page_compute_times(registry, ids[f"pool_{name}"])
        computed[name] = (p50_p95(times), statistics.median(queries), figures)
    (a50, a95), a_queries, figures_a = computed["A"]
    (b50, b95), b_queries, figures_b = computed["B"]
    members_a, members_b = figures_a["member_count"], figures_b["member_count"]
    report(
        f"page figures uncached (_public_page_compute), {members_a} members / "
        f"{members_b}: p50 of {PAGE_RUNS}",
        f"{ms(a50)} / {ms(b50)}",
        f"{a50 / b50:.2f}",
    )
    report(
        "  p95 / SQL queries",
        f"{ms(a95)} / {ms(b95)}, {a_queries:g} / {b_queries:g} queries",
        f"{a95 / b95:.2f}",
    )
    targets = {
        "A": (f"/points/pool/{slugs['A']}", _members_check(members_a)),
        "B": (f"/points/pool/{slugs['B']}", _members_check(members_b)),
        "login": ("/web/login", None),
    }
    logfile = Path(args.config).resolve().parent / f"benchmark-{args.database}.log"
    server = web.OdooServer(args.config, args.database, logfile, workers=2)
    try:
        ready = server.start()
        report(
            f"HTTP server: odoo --workers 2 --max-cron-threads 0 on 127.0.0.1:"
            f"{server.port} (log {logfile.name})",
            f"ready in {ready:.1f} s",
        )
        # each worker builds its asset bundles and loads its templates
        _times, errors, _wall = web.timed_gets(
            server.base, targets, 10, args.http_clients, seed=0
        )
        if errors:
            sys.exit(f"warm-up GET failed: {errors[0]}")
        times, errors, wall = web.timed_gets(
            server.base, targets, args.requests, args.http_clients
        )
        cold = _cold_gets(registry, server.base, targets)
    finally:
        server.stop()
    done = sum(len(values) for values in times.values())
    report(
        f"GETs: {args.requests} per URL, shuffled, {args.http_clients} client "
        "threads, no cookies",
        f"{done} in {wall:.1f} s ({done / wall:.0f}/s), {len(errors)} errors",
    )
    if errors:
        report("  first error", errors[0])
    stats = {label: p50_p95(values) for label, values in times.items()}
    (p50, p95), (l50, l95), (q50, q95) = stats["A"], stats["login"], stats["B"]
    report(
        f"GET /points/pool/<slug> ({members_a} members) / GET /web/login: p50",
        f"{ms(p50)} / {ms(l50)}",
        f"{p50 / l50:.2f}",
    )
    report(
        "  p95 (goal < 100 ms)",
        f"{ms(p95)} / {ms(l95)}",
        f"{p95 / l95:.2f}",
    )
    report(
        f"GET /points/pool/<slug>: {members_a} members / {members_b}: p50, p95",
        f"{ms(p50)}, {ms(p95)} / {ms(q50)}, {ms(q95)}",
        f"{p95 / q95:.2f}",
    )
    med = {label: statistics.median(values) for label, values in cold.items()}
    report(
        f"first GET after a cache invalidation: page ({members_a}) / /web/login, "
        f"median of {COLD_GETS}",
        f"{ms(med['A'])} / {ms(med['login'])} "
        f"(max {ms(max(cold['A']))} / {ms(max(cold['login']))})",
        f"{med['A'] / med['login']:.2f}",
    )
    report(
        f"  the same, page of {members_b} members",
        f"{ms(med['B'])} (max {ms(max(cold['B']))})",
        f"{med['B'] / med['login']:.2f}",
    )


def run(registry, args, ids):
    _run_simulator()
    _run_public_page(registry, args, ids)
