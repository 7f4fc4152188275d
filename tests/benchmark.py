#!/usr/bin/env python3
"""Benchmark of the points_pool addon (not a timed test; numbers depend on the machine).

Usage:
    python3 tests/benchmark.py -c <odoo.conf> -d <database> [options]

    -c, --config    Odoo configuration file (database connection, addons_path)
    -d, --database  database to use; created with points_pool and pos_points_pool
                    installed and no demo data when it does not exist.  An existing
                    database must have them installed without demo data (pos_points_pool
                    only for part (e)) and no benchmark data yet.
    --lots N        open positions (one member, one lot each) in pool A (100000)
    --exits N       size of the exit cascade in pool A (1000)
    --orders N      sale orders per state (pool active / inactive) in part (b) (200)
    --batch N       orders per interleaved batch in part (b) (20)
    --repeat N      orders per pool in part (a)(i) (10)
    --requests N    GETs per URL in part (f) (300)
    --http-clients N  client threads of those GETs in part (f) (4)
    --parts LIST    parts to run, comma separated: a,b,c,d,e,f (all); the set-up (pools,
                    bulk positions and, for (e), the till) always runs
    --drop          drop the database at the end

What it measures, in one run:

(a) Exit processing does not scan members.  Pool A (main company) gets --lots open
    positions by bulk SQL: partners, members and lots with their exit trigger price
    (--exits of them minted near the initial price, so their triggers sit apart);
    the pool's fund and supply are the sums over the lots.  Pool B (a second
    company) gets 10.  (i) One order that triggers no exit, confirmed, invoiced,
    paid and settled, in A and in B alternately (B A A B ...): ratios A/B of the
    medians of the whole order and of the settlement alone, and of the settlement's
    SQL queries (all should stay near 1).  (ii) An injection computed so that
    exactly --exits lots become due in A: time of the cascade, exits counted in the
    ledger, time and queries per exit.

(b) Checkout cost.  --orders sale orders confirmed, invoiced and paid (payment
    register) with the pool active against as many with the pool inactive, in
    interleaved batches (A B B A ...): ratio of the times (goal <= 1.05).  Also the
    SQL queries of one confirmation and of one payment registration in each state.

(c) The referral tree.  The bulk members of A get referral nodes: a chain of 21
    and a 10-ary tree below its root.  Median time and SQL queries of reading an
    upline of depth 20 and a downline of about a tenth of the members, against
    vanilla Odoo resolving the same shape on res.partner.parent_id (parent_of /
    child_of, level by level); the team statistics of that downline; the rank
    job over every member.

(d) Commissions.  A plan with direct, indirect, a rank differential over 9 ranks
    and a peer bonus (depth 3, acknowledged) is activated in A; the chain's 20
    referrers get the 9 ranks.  Orders of the chain's leaf (an upline of 20) and
    of a member without a referrer are paid alternately (--repeat each): the
    median time and queries of the payment (which accrues the commissions), of
    the accrual alone, and of journalizing the order's lines, leaf / no upline.

(e) Point of Sale (pos_points_pool).  A till (pos.config with the default cash
    payment method, a product without taxes) in the main company, its session
    opened by the admin user, who makes every POS call below.  (i) Sync cost:
    --orders paid orders (one line, cash, a bulk member of A as customer) synced
    one per pos.order.sync_from_ui call and transaction, with the addon against
    the same sync with its booking step disabled (PosOrder._points_pool_book
    patched to book nothing), in interleaved batches of --batch (A B B A ...):
    median and total times, their ratio (goal <= 1.05), the SQL queries of one
    sync in each state and their difference (goal <= 4).  (ii) Opening the till:
    what the browser calls at start, pos.session.load_data(models_to_load=[]),
    cold ORM cache, with the 10 members of B in the database (measured during the
    set-up, before A's bulk insert; 100 customers who are not members make the
    till preload as many partners as later) against the --lots of A: ratio of the
    medians, split into Odoo's own query of the 100 partners a till preloads (it
    reads every res.partner row) and the rest (should be ~1: no points data is
    loaded); the res.partner records returned.  (iii) Member lookup at the till
    among the --lots members of A: res.partner.points_pool_pos_lookup by referral
    code (exact), by phone (300 bulk members get one by SQL) and by a part of the
    name, median time and queries over 20 calls each (goal < 50 ms), with the
    scan nodes of the slowest query's plan.

(f) The simulator and the public page (issue 13).  (i) core.simulator's steady
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

Every unit of work (an order step, a settlement, the injection, a batch of drafts,
a POS sync) runs in its own transaction, committed, as requests would; the database
is kept (use --drop to remove it).  With the defaults it takes about 10 minutes on
2 cores, database creation included.

Example (private development cluster):
    python3 tests/benchmark.py -c /tmp/dev.conf -d pp_bench_1
    python3 tests/benchmark.py -c /tmp/dev.conf -d pp_bench_2 --parts e --drop
"""

import argparse
import io
import json
import random
import shutil
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor

RESULTS = []  # (metric, value, ratio)
PARTS = ("a", "b", "c", "d", "e", "f")
MODULES = ("points_pool", "pos_points_pool")


def _ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def _report(metric, value, ratio=""):
    RESULTS.append((metric, value, ratio))
    print(f"  {metric}: {value}" + (f"  (ratio {ratio})" if ratio else ""), flush=True)


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=True,
    )
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--exits", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--http-clients", type=int, default=4)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--drop", action="store_true")
    if not argv:
        print(__doc__)
        sys.exit(2)
    args = parser.parse_args(argv)
    parts = {part.strip().lower() for part in args.parts.split(",") if part.strip()}
    unknown = parts - set(PARTS)
    if unknown or not parts:
        parser.error(f"--parts: a comma separated list of {', '.join(PARTS)}")
    args.parts = parts
    return args


# ----------------------------------------------------------------------
# database
# ----------------------------------------------------------------------
def _open_registry(args):
    """Parse the Odoo config, create and install the database if needed."""
    import odoo
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    from odoo.service import db as db_service

    if not db_service.exp_db_exist(args.database):
        modules = ", ".join(MODULES)
        print(
            f"creating database {args.database} ({modules}, no demo data)...",
            flush=True,
        )
        start = time.perf_counter()
        db_service._create_empty_database(args.database)
        config["init"] = dict.fromkeys(MODULES, 1)
        config["without_demo"] = "all"
        registry = odoo.modules.registry.Registry.new(args.database, update_module=True)
        config["init"] = {}
        _report(f"install {modules} (no demo)", f"{time.perf_counter() - start:.1f} s")
        return registry
    return odoo.modules.registry.Registry(args.database)


# ----------------------------------------------------------------------
# set-up: companies, pools, bulk positions
# ----------------------------------------------------------------------
def _company_pool(env, company):
    if not company.chart_template:
        env["account.chart.template"].try_loading(
            "generic_coa", company, install_demo=False
        )
    pool = env["points.pool"]._get_company_pool(company)
    # the SPEC defaults (return window 7 days), the seeds' rates
    pool.write(
        {
            "contribution_rate": 30.0,
            "points_ratio": 70.0,
            "retention": 20.0,
            "exit_multiple": 3.0,
            "cash_share": 100.0,
            "vesting_rate": 0.0,
            "return_window_days": 7,
            "active": True,
        }
    )
    return pool


def _generate_lots(n, due, rng):
    """Lots as minted at a price q: u = floor(0.7 I / q), cap 3 B, trigger (C - R) / u.

    The first ``due`` lots were minted at q in [1.00, 1.01) (trigger 14.29 to 14.43),
    the others at q in [1.25, 2.50) (trigger >= 17.86), so that a price in between
    makes exactly ``due`` lots exit.  Amounts in cents, points in 1e-4.
    """
    bases = [200, 300, 500, 800, 1000, 1200, 1500, 2000, 3000, 5000]
    lots = []
    for index in range(n):
        basis = rng.choice(bases) * 100
        inflow = basis * 3 // 10
        if index < due:
            price = 1 + Fraction(rng.randrange(0, 100), 10_000)
        else:
            price = Fraction(rng.randrange(12_500, 25_000), 10_000)
        units = floor(Fraction(7 * inflow * 10_000, 10 * 100) / price)
        cap = 3 * basis
        trigger = Fraction(cap * 10_000, units * 100)
        lots.append((basis, inflow, cap, units, trigger))
    return lots


def _ceil12(value):
    return Decimal(ceil(value * 10**12)).scaleb(-12)


def _bulk_positions(env, pool, lots, label):
    """Insert a partner, a member and an open lot per item of ``lots`` (see
    ``_generate_lots``) by SQL; set fund and supply.

    Foreign-key checks look rows up with a plan made when the referenced table
    was small (a sequential scan, quadratic over 100k rows): each table is
    analyzed before rows referencing it are inserted, which replans them.
    """
    cr = env.cr
    env.flush_all()
    company_id = pool.company_id.id
    n = len(lots)
    cr.execute(
        """
        INSERT INTO res_partner (id, name, complete_name, commercial_partner_id,
            active, type, is_company, autopost_bills, lang, customer_rank,
            supplier_rank, create_uid, write_uid, create_date, write_date)
        SELECT s.id, %(label)s || s.g, %(label)s || s.g, NULL, true, 'contact',
            false, 'ask', 'en_US', 1, 0, 1, 1,
            now() at time zone 'UTC', now() at time zone 'UTC'
        FROM (SELECT nextval('res_partner_id_seq') AS id, g
              FROM generate_series(1, %(n)s) g) s
        ORDER BY s.g
        RETURNING id
        """,
        {"label": f"{label} member ", "n": n},
    )
    partner_ids = sorted(row[0] for row in cr.fetchall())
    cr.execute("ANALYZE res_partner")
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)",
        [partner_ids],
    )
    held = [str(Decimal(lot[3]).scaleb(-4)) for lot in lots]
    cr.execute(
        """
        INSERT INTO points_member (partner_id, pool_id, company_id, points_held,
            points_locked, wallet_balance, credit_balance, create_uid, write_uid,
            create_date, write_date)
        SELECT t.partner_id, %s, %s, t.held, 0, 0, 0, 1, 1,
            now() at time zone 'UTC', now() at time zone 'UTC'
        FROM unnest(%s::int[], %s::numeric[]) AS t(partner_id, held)
        RETURNING id, partner_id
        """,
        [pool.id, company_id, partner_ids, held],
    )
    member_of = dict((partner, member) for member, partner in cr.fetchall())
    cr.execute("ANALYZE points_member")
    _bulk_nodes(env, pool, [member_of[partner_id] for partner_id in partner_ids], label)
    start = datetime(2025, 1, 1)
    now = datetime.utcnow().replace(microsecond=0).isoformat(sep=" ")
    buffer = io.StringIO()
    for index, (basis, inflow, cap, units, trigger) in enumerate(lots):
        partner_id = partner_ids[index]
        paid = start + timedelta(seconds=index * 60)
        buffer.write(
            "\t".join(
                (
                    str(pool.id),
                    str(company_id),
                    str(member_of[partner_id]),
                    str(partner_id),
                    "open",
                    str(Decimal(basis).scaleb(-2)),
                    str(Decimal(inflow).scaleb(-2)),
                    str(Decimal(cap).scaleb(-2)),
                    str(Decimal(units).scaleb(-4)),
                    str(Decimal(units).scaleb(-4)),
                    "0",
                    "0",
                    "0",
                    str(_ceil12(trigger)),
                    paid.isoformat(sep=" "),
                    (paid + timedelta(days=7)).isoformat(sep=" "),
                    "1",
                    "1",
                    now,
                    now,
                )
            )
            + "\n"
        )
    buffer.seek(0)
    cr._obj.copy_expert(
        "COPY points_lot (pool_id, company_id, member_id, partner_id, state, basis, "
        "inflow, cap, minted, held, locked, realized, paid, trigger_price, date_paid, "
        "settle_date, create_uid, write_uid, create_date, write_date) FROM STDIN",
        buffer,
    )
    cr.execute("ANALYZE points_lot")
    fund = sum(lot[1] for lot in lots)
    supply = sum(lot[3] for lot in lots)
    price = Fraction(fund * 10_000, supply * 100)
    cr.execute(
        "UPDATE points_pool SET fund = %s, supply = %s, reserve = 0, pending = 0, "
        "last_price = %s, last_price_exact = %s WHERE id = %s",
        [
            Decimal(fund).scaleb(-2),
            Decimal(supply).scaleb(-4),
            _ceil12(price),
            str(price),
            pool.id,
        ],
    )
    env.invalidate_all()
    lowest = min(lot[4] for lot in lots)
    assert lowest > price, "a bulk lot would exit at once"
    return price, lowest


def _bulk_nodes(env, pool, member_ids, label):
    """One referral node per bulk member, shaped for part (c).

    Nodes 0..20 are a chain (depth 20); the others form a 10-ary tree under
    node 0 (node 21 and its siblings are node 0's direct members), so node 21's
    team holds about a tenth of the members.
    """
    from odoo.addons.points_pool.core.referral import new_code

    cr = env.cr
    codes = set()
    while len(codes) < len(member_ids):
        codes.add(new_code())
    cr.execute(
        """
        INSERT INTO points_referral_node (member_id, partner_id, pool_id, company_id,
            code, create_uid, write_uid, create_date, write_date)
        SELECT m.id, m.partner_id, m.pool_id, m.company_id, t.code, 1, 1,
            now() at time zone 'UTC', now() at time zone 'UTC'
        FROM unnest(%s::int[], %s::varchar[]) WITH ORDINALITY AS t(member_id, code, k)
        JOIN points_member m ON m.id = t.member_id
        ORDER BY t.k
        RETURNING id
        """,
        [member_ids, sorted(codes)],
    )
    node_ids = sorted(row[0] for row in cr.fetchall())
    parents = [None]
    for k in range(1, len(node_ids)):
        if k <= 20:
            parents.append(node_ids[k - 1])
        elif k <= 30:
            parents.append(node_ids[0])
        else:
            parents.append(node_ids[(k - 31) // 10 + 21])
    cr.execute(
        "UPDATE points_referral_node n SET parent_id = t.parent "
        "FROM unnest(%s::int[], %s::int[]) AS t(id, parent) WHERE n.id = t.id",
        [node_ids, parents],
    )
    env["points.referral.node"]._parent_store_compute()
    cr.execute("ANALYZE points_referral_node")
    RESULTS_IDS[label] = node_ids


RESULTS_IDS = {}


# ----------------------------------------------------------------------
# transactions and orders
# ----------------------------------------------------------------------
@contextmanager
def _transaction(registry):
    """A new cursor and environment, committed at the end, like one request.

    A fresh transaction per unit of work also keeps the ORM's list of live
    environments short (a single long transaction slows every call down).
    """
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def _draft_orders(env, company, partners, product, amount=1000.0):
    from odoo import Command

    return (
        env["sale.order"]
        .with_company(company)
        .create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_uom_qty": 1.0,
                                "price_unit": amount,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
                for partner in partners
            ]
        )
    )


def _confirm(order):
    order.action_confirm()
    order.env.flush_all()


def _invoice(order):
    invoice = order._create_invoices()
    invoice.action_post()
    order.env.flush_all()
    return invoice


def _pay(invoice):
    env = invoice.env
    env["account.payment.register"].with_company(invoice.company_id).with_context(
        active_model="account.move", active_ids=invoice.ids
    ).create({})._create_payments()
    env.flush_all()


def _count(cr, func, *args):
    """Result of ``func(*args)`` and the number of SQL queries it ran."""
    before = cr.sql_log_count
    result = func(*args)
    return result, cr.sql_log_count - before


def _count_sql(cr, func, *args):
    """Result, number of SQL queries and seconds spent in them."""
    cursor_class = type(cr)
    original = cursor_class.execute
    spent = [0.0]
    calls = [0]

    def execute(self, *call_args, **kwargs):
        start = time.perf_counter()
        calls[0] += 1
        try:
            return original(self, *call_args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    cursor_class.execute = execute
    try:
        result, _queries = _count(cr, func, *args)
    finally:
        cursor_class.execute = original
    # every cursor's: a pool event may run on a connection of its own
    return result, calls[0], spent[0]


def _settle(pool):
    from odoo import fields

    later = fields.Datetime.now() + timedelta(days=pool.return_window_days, minutes=1)
    minted = pool._settle_due(now=later)
    pool.env.flush_all()
    return minted


def _exit_count(env, pool_id):
    env.cr.execute(
        "SELECT COUNT(*) FROM points_pool_move WHERE pool_id = %s AND kind = 'exit'",
        [pool_id],
    )
    return env.cr.fetchone()[0]


# ----------------------------------------------------------------------
# phases
# ----------------------------------------------------------------------
def _phase_order_no_exit(registry, ids, repeat):
    """(a)(i): one order in A (100k positions) and in B (10), alternately.

    Each order runs in its own transaction; its settlement in another.
    """
    keys = ("order", "settle", "queries", "sql")
    times = {name: {key: [] for key in keys} for name in ("A", "B")}
    for run in range(repeat + 1):  # the first round warms caches up
        for name in ("A", "B") if run % 2 else ("B", "A"):
            pool_id = ids[f"pool_{name}"]
            with _transaction(registry) as env:
                pool = env["points.pool"].browse(pool_id)
                partner = env["res.partner"].browse(ids[f"buyer_{name}"])
                product = env["product.product"].browse(ids["product"])
                order = _draft_orders(env, pool.company_id, partner, product)
                exits_before = _exit_count(env, pool_id)
            with _transaction(registry) as env:
                order = order.with_env(env)
                start = time.perf_counter()
                _confirm(order)
                _pay(_invoice(order))
                order_time = time.perf_counter() - start
            with _transaction(registry) as env:
                pool = env["points.pool"].browse(pool_id)
                start = time.perf_counter()
                minted, queries, sql = _count_sql(env.cr, _settle, pool)
                settle_time = time.perf_counter() - start
                assert minted == 1, f"{name}: expected one lot minted, got {minted}"
                exits = _exit_count(env, pool_id) - exits_before
                assert not exits, f"the order caused {exits} exits in {name}"
            if run:
                times[name]["order"].append(order_time + settle_time)
                times[name]["settle"].append(settle_time)
                times[name]["queries"].append(queries)
                times[name]["sql"].append(sql)
    return times


def _injection_for_exits(env, pool, exits):
    """Smallest injection (Decimal, major units) that makes ``exits`` lots due."""
    from odoo.addons.points_pool.core import money

    cr = env.cr
    env.flush_all()
    cr.execute(
        "SELECT cap::text, realized::text, held::text FROM points_lot "
        "WHERE pool_id = %s AND state = 'open' ORDER BY trigger_price, id LIMIT %s",
        [pool.id, exits + 1],
    )
    rows = cr.fetchall()
    triggers = sorted(
        (money.fraction_of(cap) - money.fraction_of(realized)) / money.fraction_of(held)
        for cap, realized, held in rows
    )
    target, following = triggers[exits - 1], triggers[exits]
    cr.execute(
        "SELECT fund::text, supply::text FROM points_pool WHERE id = %s", [pool.id]
    )
    fund, supply = (money.fraction_of(value) for value in cr.fetchone())
    needed = target * supply - fund
    minor = ceil(needed * 100)
    return Decimal(minor).scaleb(-2), target, following


def _phase_cascade(registry, pool_id, exits):
    """(a)(ii): one injection that makes exactly ``exits`` lots exit."""
    with _transaction(registry) as env:
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
        with _transaction(registry) as env:
            pool = env["points.pool"].browse(pool_id)
            start = time.perf_counter()
            _result, queries, sql = _count_sql(env.cr, pool.action_inject, amount)
            env.flush_all()
            elapsed = time.perf_counter() - start
    finally:
        pool_module._journalize_after_commit = post_entries
    # a cascade's entry is left to the settlement job (the cron worker): run it
    with _transaction(registry) as env:
        start = time.perf_counter()
        env["points.pool"]._cron_settle()
        journal["job"] = time.perf_counter() - start
    with _transaction(registry) as env:
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


def _explain_due_lots(env, pool):
    """The scan node of the plan of the engine's due-lots query."""
    env.cr.execute(
        "EXPLAIN SELECT id FROM points_lot WHERE pool_id = %s AND state = 'open' "
        "AND trigger_price <= %s ORDER BY trigger_price, id LIMIT 500",
        [pool.id, Decimal(repr(pool.price_exact))],
    )
    plan = [row[0] for row in env.cr.fetchall()]
    scans = [line.strip(" ->").split("  (")[0] for line in plan if "Scan" in line]
    return "; ".join(scans) or plan[0]


def _set_active(registry, pool_id, active):
    with _transaction(registry) as env:
        pool = env["points.pool"].browse(pool_id)
        if pool.active != active:
            pool.write({"active": active})


def _checkout_counts(registry, ids):
    """Queries of one confirmation, invoice and payment, pool active / inactive."""
    counts = {}
    for active in (True, False, True, False):  # the second round is warm
        _set_active(registry, ids["pool_A"], active)
        with _transaction(registry) as env:
            pool = env["points.pool"].browse(ids["pool_A"])
            partner = env["res.partner"].browse(ids["buyers"][0])
            product = env["product.product"].browse(ids["product"])
            order = _draft_orders(env, pool.company_id, partner, product)
        with _transaction(registry) as env:
            _ignored, confirm = _count(env.cr, _confirm, order.with_env(env))
        with _transaction(registry) as env:
            invoice, post = _count(env.cr, _invoice, order.with_env(env))
        with _transaction(registry) as env:
            _ignored, pay = _count(env.cr, _pay, invoice.with_env(env))
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
    batches = -(-orders // batch)
    pattern = [(True, False) if i % 2 == 0 else (False, True) for i in range(batches)]
    elapsed = {True: 0.0, False: 0.0}
    done = {True: 0, False: 0}
    for index, pair in enumerate(pattern):
        for active in pair:
            size = min(batch, orders - done[active])
            with _transaction(registry) as env:
                pool = env["points.pool"].browse(ids["pool_A"])
                partners = env["res.partner"].browse(
                    [buyers[(index * batch + k) % len(buyers)] for k in range(size)]
                )
                product = env["product.product"].browse(ids["product"])
                order_ids = _draft_orders(env, pool.company_id, partners, product).ids
            _set_active(registry, ids["pool_A"], active)
            for order_id in order_ids:
                with _transaction(registry) as env:
                    order = env["sale.order"].browse(order_id)
                    start = time.perf_counter()
                    _confirm(order)
                    _pay(_invoice(order))
                    elapsed[active] += time.perf_counter() - start
            done[active] += size
    _set_active(registry, ids["pool_A"], True)
    with _transaction(registry) as env:
        env.cr.execute(
            "SELECT COUNT(*) FROM points_lot WHERE pool_id = %s AND state = 'pending'",
            [ids["pool_A"]],
        )
        pending = env.cr.fetchone()[0]
    return counts, elapsed, done, pending


# ----------------------------------------------------------------------
# main
# ----------------------------------------------------------------------
def _setup(registry, args, rng):
    """Companies A and B with charts and pools, a product, buyers, bulk positions.

    :return: ids: pool_A, pool_B, product, buyer_A, buyer_B, buyers
    """
    with _transaction(registry) as env:
        needed = MODULES if "e" in args.parts else MODULES[:1]
        installed = env["ir.module.module"].search(
            [("name", "in", needed), ("state", "=", "installed")]
        )
        missing = set(needed) - set(installed.mapped("name"))
        if missing:
            sys.exit(f"{', '.join(sorted(missing))} not installed in {args.database}")
        if env["res.company"].search_count([("name", "=", "Benchmark Company B")]):
            sys.exit(
                f"{args.database} already holds benchmark data: use a new database"
            )
        company_a = env.ref("base.main_company")
        company_b = env["res.company"].create(
            {"name": "Benchmark Company B", "currency_id": company_a.currency_id.id}
        )
        env.user.company_ids |= company_b
        if "stock.warehouse" in env:
            # point_of_sale brings stock (and sale_stock): outside tests Odoo
            # leaves a new company without a warehouse, which a sale order needs
            env["stock.warehouse"].create({"company_id": company_b.id})
        start = time.perf_counter()
        pool_a = _company_pool(env, company_a)
        pool_b = _company_pool(env, company_b)
        _report(
            "charts of accounts, pools A and B", f"{time.perf_counter() - start:.1f} s"
        )
        product = env["product.product"].create(
            {
                "name": "Benchmark package",
                "type": "consu",
                "list_price": 1000.0,
                "invoice_policy": "order",
                "taxes_id": [(5, 0, 0)],
            }
        )
        buyers = env["res.partner"].create(
            [{"name": f"Benchmark buyer {i}"} for i in range(21)]
        )
        ids = {
            "pool_A": pool_a.id,
            "pool_B": pool_b.id,
            "product": product.id,
            "buyer_A": buyers[0].id,
            "buyer_B": buyers[1].id,
            "buyers": buyers[2:].ids,
        }

    if "e" in args.parts:
        ids.update(_setup_pos(registry))
    # the lots of A then B are drawn in this order whatever the insertion order
    lots_a = _generate_lots(args.lots, args.exits, rng)
    lots_b = _generate_lots(10, 0, rng)
    start = time.perf_counter()
    with _transaction(registry) as env:
        pool_b = env["points.pool"].browse(ids["pool_B"])
        price_b, lowest_b = _bulk_positions(env, pool_b, lots_b, "B")
    bulk = time.perf_counter() - start
    if "e" in args.parts:
        # (e)(ii): opening the till with B's 10 members in the database
        ids["pos_load"] = {"few": _pos_load(registry, ids)}
    start = time.perf_counter()
    with _transaction(registry) as env:
        pool_a = env["points.pool"].browse(ids["pool_A"])
        price_a, lowest_a = _bulk_positions(env, pool_a, lots_a, "A")
    with _transaction(registry) as env:
        env.cr.execute("ANALYZE res_partner, points_member, points_lot, points_pool")
    bulk += time.perf_counter() - start
    _report(f"bulk insert: {args.lots} positions in A, 10 in B", f"{bulk:.1f} s")
    if "e" in args.parts:
        # and with the --lots members of A as well
        ids["pos_load"]["many"] = _pos_load(registry, ids)
    with _transaction(registry) as env:
        for name, price, lowest in (("A", price_a, lowest_a), ("B", price_b, lowest_b)):
            pool = env["points.pool"].browse(ids[f"pool_{name}"])
            _report(
                f"pool {name}: members / price / lowest trigger",
                f"{pool.member_count} / {float(price):.4f} / {float(lowest):.4f}",
            )
        pool_a = env["points.pool"].browse(ids["pool_A"])
        _report("due-lots query plan in A", _explain_due_lots(env, pool_a))
    return ids


def _run_order_no_exit(registry, args, ids):
    print(f"(a)(i) one order without exit, {args.repeat} in each pool...", flush=True)
    times = _phase_order_no_exit(registry, ids, args.repeat)
    med = {
        name: {key: statistics.median(values) for key, values in data.items()}
        for name, data in times.items()
    }
    a, b = med["A"], med["B"]
    _report(
        f"order, confirm to settled: A ({args.lots}) / B (10)",
        f"{_ms(a['order'])} / {_ms(b['order'])}",
        f"{a['order'] / b['order']:.2f}",
    )
    _report(
        "settlement alone (one mint, no exit): A / B",
        f"{_ms(a['settle'])} / {_ms(b['settle'])}",
        f"{a['settle'] / b['settle']:.2f}",
    )
    _report(
        "settlement SQL queries: A / B",
        f"{a['queries']:.0f} / {b['queries']:.0f}",
        f"{a['queries'] / b['queries']:.2f}",
    )
    _report(
        "settlement time in SQL: A / B",
        f"{_ms(a['sql'])} / {_ms(b['sql'])}",
        f"{a['sql'] / b['sql']:.2f}",
    )


def _run_cascade(registry, args, ids):
    print(f"(a)(ii) injection making {args.exits} lots due in A...", flush=True)
    cascade = _phase_cascade(registry, ids["pool_A"], args.exits)
    exits = max(cascade["exits"], 1)
    _report(
        "injection / price to reach / next trigger",
        f"{cascade['amount']} / {float(cascade['target']):.4f} / "
        f"{float(cascade['following']):.4f}",
    )
    _report(
        "cascade: exits in ledger / lines / price after",
        f"{cascade['exits']} / {cascade['lines']} / {cascade['price_after']:.4f}",
    )
    _report(
        "cascade: time total / per exit",
        f"{cascade['seconds']:.2f} s / {_ms(cascade['seconds'] / exits)}",
    )
    held = cascade["seconds"] - cascade["entry"]
    _report(
        "cascade: the caller's wait (the pool event, row held) / entry after commit",
        f"{held:.2f} s / {cascade['entry']:.2f} s",
    )
    _report(
        "cascade: its entry, posted by the settlement job (cron worker)",
        f"{cascade['job']:.2f} s",
    )
    _report(
        "cascade: SQL queries total / per exit",
        f"{cascade['queries']} / {cascade['queries'] / exits:.2f}",
    )
    _report("cascade: time in SQL", f"{cascade['sql']:.2f} s")


def _run_checkout(registry, args, ids):
    print(
        f"(b) checkout of {args.orders} orders, pool active / inactive...", flush=True
    )
    counts, elapsed, done, pending = _phase_checkout(
        registry, ids, args.orders, args.batch
    )
    for index, label in enumerate(("confirm", "invoice+post", "payment register")):
        on, off = counts[True][index], counts[False][index]
        _report(
            f"queries of one {label}: active / inactive",
            f"{on} / {off}",
            f"{on / off:.2f}",
        )
    per_on, per_off = elapsed[True] / done[True], elapsed[False] / done[False]
    _report(
        f"checkout of {done[True]} + {done[False]} orders: active / inactive",
        f"{elapsed[True]:.1f} s / {elapsed[False]:.1f} s",
    )
    _report(
        "checkout per order: active / inactive",
        f"{_ms(per_on)} / {_ms(per_off)}",
        f"{per_on / per_off:.3f}",
    )
    _report("pending lots written by the active batches", str(pending))


def _median_run(registry, func, repeat=20):
    """Median time and queries of ``func(env)`` with a cold ORM cache each time."""
    times, queries = [], []
    with _transaction(registry) as env:
        for _i in range(repeat):
            env.invalidate_all()
            before = env.cr.sql_log_count
            start = time.perf_counter()
            result = func(env)
            times.append(time.perf_counter() - start)
            queries.append(env.cr.sql_log_count - before)
    return statistics.median(times), statistics.median(queries), result


def _run_referral(registry, args, ids):
    """(c) The referral tree against vanilla Odoo's res.partner hierarchy."""
    node_ids = RESULTS_IDS["A"]
    print(f"(c) referral tree of {len(node_ids)} members in A...", flush=True)
    leaf, team_root = node_ids[20], node_ids[21]
    with _transaction(registry) as env:
        Node = env["points.referral.node"]
        partner_of = {
            node.id: node.partner_id.id for node in Node.browse([leaf, team_root])
        }
        # the same shape on res.partner.parent_id, which Odoo resolves level by
        # level (res.partner has no parent_path)
        env.cr.execute(
            "UPDATE res_partner p SET parent_id = pn.partner_id "
            "FROM points_referral_node n JOIN points_referral_node pn "
            "ON pn.id = n.parent_id WHERE p.id = n.partner_id"
        )
        env.cr.execute("ANALYZE res_partner")

    def ours_up(env):
        node = env["points.referral.node"].browse(leaf)
        upline = node._get_upline()
        upline.mapped("partner_id")
        return len(upline)

    def vanilla_up(env):
        return (
            len(env["res.partner"].search([("id", "parent_of", partner_of[leaf])])) - 1
        )

    def ours_down(env):
        return len(env["points.referral.node"].browse(team_root)._get_downline())

    def vanilla_down(env):
        return (
            len(env["res.partner"].search([("id", "child_of", partner_of[team_root])]))
            - 1
        )

    def ours_stats(env):
        return env["points.referral.node"].browse(team_root)._get_team_stats()

    for label, ours, vanilla in (
        ("upline of depth 20", ours_up, vanilla_up),
        ("downline", ours_down, vanilla_down),
    ):
        t_ours, q_ours, n_ours = _median_run(registry, ours)
        t_van, q_van, n_van = _median_run(registry, vanilla)
        assert n_ours == n_van, (label, n_ours, n_van)
        _report(
            f"{label} ({n_ours} members): tree / res.partner hierarchy",
            f"{_ms(t_ours)} / {_ms(t_van)}",
            f"{t_ours / t_van:.2f}",
        )
        _report(
            f"{label}: SQL queries, tree / res.partner hierarchy",
            f"{q_ours:g} / {q_van:g}",
        )
    t_stats, q_stats, stats = _median_run(registry, ours_stats, repeat=5)
    with _transaction(registry) as env:
        # undo the vanilla comparison's partner hierarchy: later parts pay orders
        # of these partners, and a 20-deep res.partner chain slows Odoo's own
        # payment code (commercial partner, child_of searches) by seconds
        env.cr.execute(
            "UPDATE res_partner p SET parent_id = NULL FROM points_referral_node n "
            "WHERE p.id = n.partner_id AND p.parent_id IS NOT NULL"
        )
    row = stats[team_root]
    _report(
        f"team size and volume of {row['team']} members",
        f"{_ms(t_stats)}, {q_stats:g} queries",
    )
    with _transaction(registry) as env:
        company = env.ref("base.main_company")
        env["points.rank"].create(
            [
                {
                    "name": "Bench L1",
                    "level": 1,
                    "use_own_volume": True,
                    "min_own_volume": 3000.0,
                    "company_id": company.id,
                },
                {
                    "name": "Bench L2",
                    "level": 2,
                    "use_team_volume": True,
                    "min_team_volume": 50_000.0,
                    "company_id": company.id,
                },
            ]
        )
    with _transaction(registry) as env:
        start = time.perf_counter()
        env["points.referral.node"]._cron_update_ranks()
        elapsed = time.perf_counter() - start
        ranked = env["points.referral.node"].search_count([("rank_id", "!=", False)])
    _report(
        f"rank job over {len(node_ids)} members ({ranked} ranked)", f"{elapsed:.1f} s"
    )


def _run_commissions(registry, args, ids):
    """(d) Accrual and posting of an order with a 20-deep upline and 9 ranks."""
    from odoo import Command

    node_ids = RESULTS_IDS["A"]
    leaf = node_ids[20]
    print("(d) commissions: 20-deep upline and 9 ranks / no upline...", flush=True)
    with _transaction(registry) as env:
        company = env.ref("base.main_company")
        Rank = env["points.rank"]
        ranks = Rank.search([("company_id", "=", company.id)], order="level")
        ranks |= Rank.create(
            [
                {"name": f"Bench L{level}", "level": level, "company_id": company.id}
                for level in range(len(ranks) + 1, 10)
            ]
        )
        Node = env["points.referral.node"]
        upline = Node.browse(leaf)._get_upline()
        for index, node in enumerate(upline):
            node._set_rank(ranks[8 - index % 9], "manager")
        pool = env["points.pool"].browse(ids["pool_A"])
        loner = env["res.partner"].create({"name": "Bench no upline"})
        env["points.member"]._get_or_create(pool, loner)
        plan = env["points.commission.plan"].create(
            {"name": "Bench plan", "company_id": company.id}
        )
        plan._acknowledge_depth()
        plan.write(
            {
                "rule_ids": [
                    Command.create({"kind": "direct", "rate": 3.0}),
                    Command.create({"kind": "indirect", "rate": 2.0}),
                    Command.create(
                        {
                            "kind": "rank_differential",
                            "levels": 3,
                            "tier_ids": [
                                Command.create(
                                    {"rank_id": rank.id, "rate": 0.5 * rank.level}
                                )
                                for rank in ranks
                            ],
                        }
                    ),
                    Command.create({"kind": "peer", "rate": 10.0, "levels": 3}),
                ]
            }
        )
        plan._activate()
        buyers = {"leaf": Node.browse(leaf).partner_id.id, "none": loner.id}
    Line = "points.commission.line"
    results = {"leaf": [], "none": []}
    for index in range(2 * args.repeat + 2):  # the first two are warm-up
        key = ("leaf", "none", "none", "leaf")[index % 4]
        with _transaction(registry) as env:
            pool = env["points.pool"].browse(ids["pool_A"])
            partner = env["res.partner"].browse(buyers[key])
            product = env["product.product"].browse(ids["product"])
            order = _draft_orders(env, pool.company_id, partner, product)
            _confirm(order)
            invoice = _invoice(order)
        with _transaction(registry) as env:
            start = time.perf_counter()
            _ignored, pay_queries = _count(env.cr, _pay, invoice.with_env(env))
            pay = time.perf_counter() - start
            lot = env["points.lot"].search([("invoice_id", "=", invoice.id)])
            lines = env[Line].search([("lot_id", "=", lot.id)])
            # the accrual alone, again on the same lot (rolled back below)
            env.cr.execute("SAVEPOINT bench_accrual")
            env.cr.execute(
                "DELETE FROM points_commission_line WHERE lot_id = %s", [lot.id]
            )
            env.invalidate_all()
            start = time.perf_counter()
            _ignored, accrual_queries = _count(env.cr, env[Line]._accrue_lots, lot)
            accrual = time.perf_counter() - start
            env.cr.execute("ROLLBACK TO SAVEPOINT bench_accrual")
            env.invalidate_all()
            start = time.perf_counter()
            _ignored, post_queries = _count(env.cr, lines._post_accruals)
            env.flush_all()
            post = time.perf_counter() - start
        if index >= 2:
            results[key].append(
                (
                    pay,
                    pay_queries,
                    accrual,
                    accrual_queries,
                    post,
                    post_queries,
                    len(lines),
                )
            )
    with _transaction(registry) as env:
        env.cr.execute(
            "UPDATE points_commission_plan SET state = 'closed' WHERE id = %s",
            [plan.id],
        )
        env.registry.clear_cache()

    def med(key, column):
        return statistics.median(row[column] for row in results[key])

    _report(
        "commission lines per order: 20-deep upline, 9 ranks / no upline",
        f"{med('leaf', 6):g} / {med('none', 6):g}",
    )
    for label, column, queries in (
        ("payment (accrues)", 0, 1),
        ("accrual alone (upline, compute, insert)", 2, 3),
        ("journalizing the order's lines", 4, 5),
    ):
        leaf_t, none_t = med("leaf", column), med("none", column)
        _report(
            f"{label}: 20-deep upline / no upline",
            f"{_ms(leaf_t)} / {_ms(none_t)}",
            # no line to journalize without an upline: no ratio
            f"{leaf_t / none_t:.2f}" if med("none", 6) or column != 4 else "",
        )
        _report(
            f"{label}: SQL queries",
            f"{med('leaf', queries):g} / {med('none', queries):g}",
        )


# ----------------------------------------------------------------------
# (e) Point of Sale
# ----------------------------------------------------------------------
POS_PRICE = 1000.0
POS_PHONES = 300  # bulk members of A given a phone number for the lookup


def _setup_pos(registry):
    """A till in the main company, its session opened by the admin user.

    The config's default payment methods (a cash one among them), a product
    available in the POS without taxes, and 100 customers who are not members
    (a till preloads up to 100 partners: as many with 10 members as with 100k).
    """
    from odoo import Command

    with _transaction(registry) as env:
        company = env.ref("base.main_company")
        admin = env.ref("base.user_admin")
        product = env["product.product"].create(
            {
                "name": "Benchmark till item",
                "type": "consu",
                "list_price": POS_PRICE,
                "available_in_pos": True,
                "taxes_id": [Command.clear()],
            }
        )
        env["res.partner"].create(
            [{"name": f"Benchmark customer {i:03d}"} for i in range(100)]
        )
        config = (
            env["pos.config"].with_company(company).create({"name": "Benchmark till"})
        )
        cash = config.payment_method_ids.filtered(
            lambda method: method.is_cash_count and not method.split_transactions
        )[:1]
        if not cash:
            sys.exit("the benchmark till has no cash payment method")
        # open_ui refuses the superuser: the cashier opens it
        config = config.with_user(admin)
        config.open_ui()
        session = config.current_session_id
        session.set_opening_control(0, None)
        return {
            "pos_user": admin.id,
            "pos_config": config.id,
            "pos_session": session.id,
            "pos_cash": cash.id,
            "pos_product": product.id,
            "pos_pricelist": config.pricelist_id.id,
        }


def _pos_load(registry, ids, repeat=20):
    """What the browser calls when the till opens (data_service.js
    ``loadInitialData``: ``pos.session.load_data(models_to_load=[])``)."""

    def load(env):
        session = env["pos.session"].with_user(ids["pos_user"])
        return session.browse(ids["pos_session"]).load_data([])

    def top_partners(env):
        config = env["pos.config"].with_user(ids["pos_user"])
        return config.browse(ids["pos_config"]).get_limited_partners_loading()

    with _transaction(registry) as env:  # warm-up: the registry's caches
        load(env)
    seconds, queries, response = _median_run(registry, load, repeat)
    # Odoo's own query of the partners a till preloads (the 100 with the most
    # POS orders, then by name), over all res.partner rows
    top, _queries, _rows = _median_run(registry, top_partners, repeat)
    with _transaction(registry) as env:
        _seconds, plan = _slowest_select(
            env, top_partners, env, contains="LEFT JOIN pm"
        )
        env.cr.execute("SELECT COUNT(*) FROM points_member")
        members = env.cr.fetchone()[0]
        env.cr.execute("SELECT COUNT(*) FROM res_partner")
        partners = env.cr.fetchone()[0]
    return {
        "seconds": seconds,
        "queries": queries,
        "top": top,
        "plan": plan,
        "loaded": len(response["res.partner"]["data"]),
        "points": sorted(model for model in response if model.startswith("points.")),
        "members": members,
        "partners": partners,
        "kib": len(json.dumps(response, default=str)) / 1024,
    }


def _pos_order_data(ids, partner_id, sequence):
    """A paid order as the till sends it (point_of_sale/tests/common.py
    ``create_ui_order_data``): one line without taxes, paid in cash."""
    from odoo import fields

    key = str(uuid.uuid4())
    return {
        "amount_paid": POS_PRICE,
        "amount_return": 0,
        "amount_tax": 0.0,
        "amount_total": POS_PRICE,
        "date_order": fields.Datetime.to_string(fields.Datetime.now()),
        "fiscal_position_id": False,
        "pricelist_id": ids["pos_pricelist"],
        "name": f"Order {key}",
        "last_order_preparation_change": "{}",
        "lines": [
            (
                0,
                0,
                {
                    "id": random.randint(1, 1_000_000),
                    "pack_lot_ids": [],
                    "price_unit": POS_PRICE,
                    "product_id": ids["pos_product"],
                    "price_subtotal": POS_PRICE,
                    "price_subtotal_incl": POS_PRICE,
                    "qty": 1,
                    "tax_ids": [(6, 0, [])],
                },
            )
        ],
        "partner_id": partner_id,
        "session_id": ids["pos_session"],
        "sequence_number": sequence,
        "payment_ids": [
            (
                0,
                0,
                {
                    "amount": POS_PRICE,
                    "name": fields.Datetime.now(),
                    "payment_method_id": ids["pos_cash"],
                },
            )
        ],
        "uuid": key,
        "user_id": ids["pos_user"],
        "to_invoice": False,
    }


def _pos_sync(env, ids, data):
    """One sync_from_ui call of the till; the synced order's id."""
    result = env["pos.order"].with_user(ids["pos_user"]).sync_from_ui([data])
    env.flush_all()
    return result["pos.order"][0]["id"]


@contextmanager
def _pos_booking(enabled):
    """With ``enabled`` false, the addon's booking step books nothing."""
    from odoo.addons.pos_points_pool.models.pos_order import PosOrder

    original = PosOrder.__dict__["_points_pool_book"]
    if not enabled:
        PosOrder._points_pool_book = lambda self, part: self.env["points.lot"]
    try:
        yield
    finally:
        PosOrder._points_pool_book = original


def _phase_pos_sync(registry, ids, orders, batch, partners):
    """(e)(i): sync_from_ui with the addon / its booking disabled, interleaved.

    Batches in the pattern A B B A ... as in (b); every order is its own call
    and transaction; building the order's data and the commit are not timed.
    """
    sequence = [0]

    def data_for(partner_id):
        sequence[0] += 1
        return _pos_order_data(ids, partner_id, sequence[0])

    counts = {}
    for enabled in (True, False, True, False):  # the second round is warm
        data = data_for(partners[0])
        with _pos_booking(enabled), _transaction(registry) as env:
            _order, queries, _sql = _count_sql(env.cr, _pos_sync, env, ids, data)
        counts[enabled] = queries
    batches = -(-orders // batch)
    pattern = [(True, False) if i % 2 == 0 else (False, True) for i in range(batches)]
    times = {True: [], False: []}
    synced = {True: [], False: []}
    for pair in pattern:
        for enabled in pair:
            size = min(batch, orders - len(times[enabled]))
            with _pos_booking(enabled):
                for _k in range(size):
                    partner_id = partners[len(times[enabled]) % len(partners)]
                    data = data_for(partner_id)
                    with _transaction(registry) as env:
                        start = time.perf_counter()
                        order_id = _pos_sync(env, ids, data)
                        times[enabled].append(time.perf_counter() - start)
                    synced[enabled].append(order_id)
    booked = {}
    with _transaction(registry) as env:
        for enabled, order_ids in synced.items():
            env.cr.execute(
                "SELECT COUNT(*) FROM points_lot WHERE pos_order_id = ANY(%s)",
                [order_ids],
            )
            booked[enabled] = env.cr.fetchone()[0]
            env.cr.execute(
                "SELECT COUNT(*) FROM pos_order WHERE id = ANY(%s) AND state = 'paid'",
                [order_ids],
            )
            paid = env.cr.fetchone()[0]
            assert paid == len(order_ids), (enabled, paid, len(order_ids))
    return counts, times, booked


def _slowest_select(env, func, *args, contains="SELECT"):
    """Seconds and scan nodes of the plan of the slowest SELECT of ``func``
    (among those whose text includes ``contains``)."""
    from odoo.tools import SQL

    cursor_class = type(env.cr)
    original = cursor_class.execute
    seen = []

    def execute(self, query, params=None, *more, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, query, params, *more, **kwargs)
        finally:
            seen.append((time.perf_counter() - start, query, params))

    env.invalidate_all()
    cursor_class.execute = execute
    try:
        func(*args)
    finally:
        cursor_class.execute = original

    def text(query):
        return query.code if isinstance(query, SQL) else query

    selects = [
        row
        for row in seen
        if text(row[1]).lstrip().startswith(("SELECT", "WITH"))
        and contains in text(row[1])
    ]
    seconds, query, params = max(selects, key=lambda row: row[0])
    if isinstance(query, SQL):
        env.cr.execute(SQL("EXPLAIN %s", query))
    else:
        env.cr.execute("EXPLAIN " + query, params)
    plan = [row[0] for row in env.cr.fetchall()]
    scans = [line.strip(" ->").split("  (")[0] for line in plan if "Scan" in line]
    return seconds, "; ".join(dict.fromkeys(scans)) or plan[0]


def _run_pos_lookup(registry, args, ids):
    """(e)(iii): the till's member lookup among the bulk members of A."""
    node_ids = RESULTS_IDS["A"]
    rng = random.Random(20260102)
    sample = sorted(rng.sample(node_ids, min(len(node_ids), POS_PHONES)))
    with _transaction(registry) as env:
        env.cr.execute(
            "SELECT n.partner_id, n.code, p.name FROM points_referral_node n "
            "JOIN res_partner p ON p.id = n.partner_id WHERE n.id = ANY(%s) "
            "ORDER BY n.id",
            [sample],
        )
        rows = env.cr.fetchall()
        numbers = set()
        while len(numbers) < len(rows):
            numbers.add(f"13{rng.randrange(10**9):09d}")
        phones = sorted(numbers)
        rng.shuffle(phones)
        env.cr.execute(
            "UPDATE res_partner p SET phone = t.phone "
            "FROM unnest(%s::int[], %s::varchar[]) AS t(id, phone) WHERE p.id = t.id",
            [[row[0] for row in rows], phones],
        )
        env.cr.execute("ANALYZE res_partner")
    picks = rng.sample(range(len(rows)), min(20, len(rows)))
    kinds = (
        ("referral code (exact)", [(rows[i][1], rows[i][0]) for i in picks]),
        ("phone", [(phones[i], rows[i][0]) for i in picks]),
        # "A member 4242" -> "member 4242" (also matches "A member 42420" ...)
        (
            "part of the name",
            [(rows[i][2].split(" ", 1)[1], rows[i][0]) for i in picks],
        ),
    )
    for label, calls in kinds:
        times, queries = [], []
        with _transaction(registry) as env:
            Partner = env["res.partner"].with_user(ids["pos_user"])
            for query, expected in calls:
                env.invalidate_all()
                before = env.cr.sql_log_count
                start = time.perf_counter()
                found = Partner.points_pool_pos_lookup(query, ids["pos_config"])
                times.append(time.perf_counter() - start)
                queries.append(env.cr.sql_log_count - before)
                found_ids = [row["id"] for row in found]
                assert expected in found_ids, (label, query, expected, found)
            slowest, scans = _slowest_select(
                env, Partner.points_pool_pos_lookup, calls[0][0], ids["pos_config"]
            )
        _report(
            f"till lookup among {args.lots} members by {label}: median of {len(calls)}",
            f"{_ms(statistics.median(times))}, {statistics.median(queries):g} queries "
            f"(max {_ms(max(times))})",
        )
        _report(f"  its slowest query ({_ms(slowest)}): plan", scans)


def _run_pos(registry, args, ids):
    """(e) Point of Sale: sync cost, opening the till, member lookup."""
    print(
        f"(e)(i) POS sync of {args.orders} orders, addon / booking disabled...",
        flush=True,
    )
    node_ids = RESULTS_IDS["A"]
    with _transaction(registry) as env:
        # members of the 10-ary tree (an upline of 4 or 5), one per order
        env.cr.execute(
            "SELECT partner_id FROM points_referral_node WHERE id = ANY(%s) ORDER BY id",
            [node_ids[-(args.orders + 1) :]],
        )
        partners = [row[0] for row in env.cr.fetchall()]
    counts, times, booked = _phase_pos_sync(
        registry, ids, args.orders, args.batch, partners
    )
    on, off = counts[True], counts[False]
    _report(
        "queries of one POS sync: addon / booking disabled",
        f"{on} / {off} ({on - off:+d})",
        f"{on / off:.2f}",
    )
    total_on, total_off = sum(times[True]), sum(times[False])
    _report(
        f"POS sync of {len(times[True])} + {len(times[False])} orders: "
        "addon / booking disabled",
        f"{total_on:.1f} s / {total_off:.1f} s",
        f"{total_on / total_off:.3f}",
    )
    med_on, med_off = statistics.median(times[True]), statistics.median(times[False])
    _report(
        "POS sync per order, median: addon / booking disabled",
        f"{_ms(med_on)} / {_ms(med_off)}",
        f"{med_on / med_off:.3f}",
    )
    _report(
        "lots booked by those orders: addon / booking disabled",
        f"{booked[True]} / {booked[False]}",
    )
    print(f"(e)(ii) opening the till, {args.lots} members / 10...", flush=True)
    many, few = ids["pos_load"]["many"], ids["pos_load"]["few"]
    _report(
        f"opening the till (load_data): {many['members']} members / {few['members']}",
        f"{_ms(many['seconds'])} / {_ms(few['seconds'])}",
        f"{many['seconds'] / few['seconds']:.2f}",
    )
    _report(
        "  of which Odoo's top-100 partners query (get_limited_partners_loading)",
        f"{_ms(many['top'])} / {_ms(few['top'])}",
        f"{many['top'] / few['top']:.2f}",
    )
    rest_many, rest_few = many["seconds"] - many["top"], few["seconds"] - few["top"]
    _report(
        "  the rest of load_data",
        f"{_ms(rest_many)} / {_ms(rest_few)}",
        f"{rest_many / rest_few:.2f}",
    )
    _report(f"  the plan of that query with {many['members']} members", many["plan"])
    _report(
        "opening the till: SQL queries / payload",
        f"{many['queries']:g} / {few['queries']:g} queries, "
        f"{many['kib']:.0f} / {few['kib']:.0f} KiB",
    )
    _report(
        "opening the till: res.partner records loaded (of all partners)",
        f"{many['loaded']} of {many['partners']} / {few['loaded']} of {few['partners']}",
    )
    _report(
        "opening the till: points.* models loaded",
        ", ".join(sorted(set(many["points"]) | set(few["points"]))) or "none",
    )
    print(f"(e)(iii) member lookup among {args.lots} members...", flush=True)
    _run_pos_lookup(registry, args, ids)


# ----------------------------------------------------------------------
# (f) the simulator and the public page
# ----------------------------------------------------------------------
SIM_DAYS, SIM_ORDERS_PER_DAY, SIM_RUNS = 1000, 20, 3
#: days of the MemoryLotStore replay (it scans every lot for due ones)
SIM_SCAN_DAYS = 100
PAGE_RUNS = 50
COLD_GETS = 20


def _replay(params, ops, store_class):
    """The simulator's operations (``record_ops``) through a plain engine."""
    from odoo.addons.points_pool.core import simulator

    return simulator.replay(params, ops, store_class(params))


def _timed(func, *args, runs=1):
    """The last result of ``func(*args)`` and the seconds of each of ``runs`` calls."""
    seconds = []
    for _i in range(runs):
        start = time.perf_counter()
        result = func(*args)
        seconds.append(time.perf_counter() - start)
    return result, seconds


def _run_simulator():
    """(f)(i): core.simulator over 1,000 days x 20 orders, against the engine alone."""
    from odoo.addons.points_pool.core import simulator as sim
    from odoo.addons.points_pool.core.pool import MemoryLotStore, PoolParams

    orders = SIM_DAYS * SIM_ORDERS_PER_DAY
    print(f"(f)(i) simulator, {SIM_DAYS} days x {SIM_ORDERS_PER_DAY} orders...")
    params = PoolParams()
    scenario = sim.steady(days=SIM_DAYS, orders_per_day=SIM_ORDERS_PER_DAY)
    result, runs = _timed(sim.simulate, scenario, params, runs=SIM_RUNS)
    summary = result.summary
    assert summary.orders == orders, summary.orders
    best, median = min(runs), statistics.median(runs)
    _report(
        f"simulator, steady: {orders} orders over {SIM_DAYS} days "
        f"({summary.members} members, {summary.exits} exits), best / median of "
        f"{SIM_RUNS}",
        f"{best:.2f} s / {median:.2f} s (goal < 10 s)",
    )
    recorded = sim.simulate(scenario, params, record_ops=True)
    engine, replays = _timed(
        _replay, params, recorded.ops, sim.IndexedLotStore, runs=SIM_RUNS
    )
    assert engine.state == recorded.state and engine.store.lots == recorded.lots
    _report(
        f"  its {len(recorded.ops)} engine operations replayed alone "
        "(PoolEngine + IndexedLotStore): simulator / replay, best",
        f"{best:.2f} s / {min(replays):.2f} s",
        f"{best / min(replays):.2f}",
    )
    small = sim.steady(days=SIM_SCAN_DAYS, orders_per_day=SIM_ORDERS_PER_DAY)
    small_result, small_runs = _timed(sim.simulate, small, params, runs=SIM_RUNS)
    recorded = sim.simulate(small, params, record_ops=True)
    engine, scan = _timed(_replay, params, recorded.ops, MemoryLotStore)
    assert engine.state == small_result.state
    _report(
        f"  {SIM_SCAN_DAYS * SIM_ORDERS_PER_DAY} orders ({SIM_SCAN_DAYS} days): "
        "simulator / replay through PoolEngine + MemoryLotStore (a scan per mint)",
        f"{_ms(min(small_runs))} / {_ms(scan[0])}",
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
    with _transaction(registry) as env:
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


def _p50_p95(times):
    from bench_http import percentile

    return statistics.median(times), percentile(times, 0.95)


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
    from bench_http import get, new_session

    session = new_session()
    times = {label: [] for label in targets}
    for _i in range(count):
        for label, (path, check) in targets.items():
            with _transaction(registry) as env:
                env.cr.execute("SELECT nextval('base_cache_signaling_default')")
            times[label].append(get(session, base + path, check))
    return times


def _run_public_page(registry, args, ids):
    """(f)(ii): /points/pool/<slug> of pool A (--lots members) and of B (10)."""
    from pathlib import Path

    import bench_http

    print(f"(f)(ii) public page of a pool of {args.lots} members...", flush=True)
    start = time.perf_counter()
    with _transaction(registry) as env:
        lines = _bulk_ledger(env, ids["pool_A"])
        lines_b = _bulk_ledger(env, ids["pool_B"])
    _report(
        "ledger lines for the page's sums and chart, A / B (one mint per lot, "
        "a sell per tenth lot, by SQL)",
        f"{lines} / {lines_b}, {time.perf_counter() - start:.1f} s",
    )
    with _transaction(registry) as env:
        pools = env["points.pool"].browse([ids["pool_A"], ids["pool_B"]])
        pools.write({"public_page": True})
        slugs = dict(zip(("A", "B"), pools.mapped("public_slug"), strict=True))
    computed = {}
    for name in ("A", "B"):
        times, queries, figures = _page_compute_times(registry, ids[f"pool_{name}"])
        computed[name] = (_p50_p95(times), statistics.median(queries), figures)
    (a50, a95), a_queries, figures_a = computed["A"]
    (b50, b95), b_queries, figures_b = computed["B"]
    members_a, members_b = figures_a["member_count"], figures_b["member_count"]
    _report(
        f"page figures uncached (_public_page_compute), {members_a} members / "
        f"{members_b}: p50 of {PAGE_RUNS}",
        f"{_ms(a50)} / {_ms(b50)}",
        f"{a50 / b50:.2f}",
    )
    _report(
        "  p95 / SQL queries",
        f"{_ms(a95)} / {_ms(b95)}, {a_queries:g} / {b_queries:g} queries",
        f"{a95 / b95:.2f}",
    )
    targets = {
        "A": (f"/points/pool/{slugs['A']}", _members_check(members_a)),
        "B": (f"/points/pool/{slugs['B']}", _members_check(members_b)),
        "login": ("/web/login", None),
    }
    logfile = Path(args.config).resolve().parent / f"benchmark-{args.database}.log"
    server = bench_http.OdooServer(args.config, args.database, logfile, workers=2)
    try:
        ready = server.start()
        _report(
            f"HTTP server: odoo --workers 2 --max-cron-threads 0 on 127.0.0.1:"
            f"{server.port} (log {logfile.name})",
            f"ready in {ready:.1f} s",
        )
        # each worker builds its asset bundles and loads its templates
        _times, errors, _wall = bench_http.timed_gets(
            server.base, targets, 10, args.http_clients, seed=0
        )
        if errors:
            sys.exit(f"warm-up GET failed: {errors[0]}")
        times, errors, wall = bench_http.timed_gets(
            server.base, targets, args.requests, args.http_clients
        )
        cold = _cold_gets(registry, server.base, targets)
    finally:
        server.stop()
    done = sum(len(values) for values in times.values())
    _report(
        f"GETs: {args.requests} per URL, shuffled, {args.http_clients} client "
        "threads, no cookies",
        f"{done} in {wall:.1f} s ({done / wall:.0f}/s), {len(errors)} errors",
    )
    if errors:
        _report("  first error", errors[0])
    stats = {label: _p50_p95(values) for label, values in times.items()}
    (p50, p95), (l50, l95), (q50, q95) = stats["A"], stats["login"], stats["B"]
    _report(
        f"GET /points/pool/<slug> ({members_a} members) / GET /web/login: p50",
        f"{_ms(p50)} / {_ms(l50)}",
        f"{p50 / l50:.2f}",
    )
    _report(
        "  p95 (goal < 100 ms)",
        f"{_ms(p95)} / {_ms(l95)}",
        f"{p95 / l95:.2f}",
    )
    _report(
        f"GET /points/pool/<slug>: {members_a} members / {members_b}: p50, p95",
        f"{_ms(p50)}, {_ms(p95)} / {_ms(q50)}, {_ms(q95)}",
        f"{p95 / q95:.2f}",
    )
    med = {label: statistics.median(values) for label, values in cold.items()}
    _report(
        f"first GET after a cache invalidation: page ({members_a}) / /web/login, "
        f"median of {COLD_GETS}",
        f"{_ms(med['A'])} / {_ms(med['login'])} "
        f"(max {_ms(max(cold['A']))} / {_ms(max(cold['login']))})",
        f"{med['A'] / med['login']:.2f}",
    )
    _report(
        f"  the same, page of {members_b} members",
        f"{_ms(med['B'])} (max {_ms(max(cold['B']))})",
        f"{med['B'] / med['login']:.2f}",
    )


def _print_table():
    width = max(len(metric) for metric, _v, _r in RESULTS)
    vwidth = max(len(value) for _m, value, _r in RESULTS)
    print()
    print(f"{'metric':<{width}}  {'value':<{vwidth}}  ratio")
    print(f"{'-' * width}  {'-' * vwidth}  -----")
    for metric, value, ratio in RESULTS:
        print(f"{metric:<{width}}  {value:<{vwidth}}  {ratio}".rstrip())


def main(argv):
    args = _parse_args(argv)
    run_start = time.perf_counter()
    registry = _open_registry(args)
    rng = random.Random(20260101)
    print("set-up...", flush=True)
    ids = _setup(registry, args, rng)
    if "a" in args.parts:
        _run_order_no_exit(registry, args, ids)
        _run_cascade(registry, args, ids)
    if "b" in args.parts:
        _run_checkout(registry, args, ids)
    if "c" in args.parts:
        _run_referral(registry, args, ids)
    if "d" in args.parts:
        _run_commissions(registry, args, ids)
    if "e" in args.parts:
        _run_pos(registry, args, ids)
    if "f" in args.parts:
        _run_simulator()
        _run_public_page(registry, args, ids)
    _report("total run time", f"{time.perf_counter() - run_start:.0f} s")
    _print_table()
    if args.drop:
        # not odoo.service.db.exp_drop: it is refused when list_db is off (odoo.conf)
        import odoo
        from odoo.modules.registry import Registry

        Registry.delete(args.database)
        odoo.sql_db.close_db(args.database)
        conn = odoo.sql_db.db_connect("postgres")
        with conn.cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        shutil.rmtree(odoo.tools.config.filestore(args.database), ignore_errors=True)
        print(f"dropped {args.database} and its filestore")


if __name__ == "__main__":
    main(sys.argv[1:])
