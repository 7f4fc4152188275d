"""(e) Point of Sale (pos_points_pool).  A till (pos.config with the default cash
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
"""

import json
import random
import statistics
import sys
import time
import uuid
from contextlib import contextmanager

from .harness import (
    count_sql,
    interleaved,
    median_run,
    ms,
    report,
    slowest_select,
    transaction,
)

POS_PRICE = 1000.0
POS_PHONES = 300  # bulk members of A given a phone number for the lookup


def setup_pos(registry):
    """A till in the main company, its session opened by the admin user.

    The config's default payment methods (a cash one among them), a product
    available in the POS without taxes, and 100 customers who are not members
    (a till preloads up to 100 partners: as many with 10 members as with 100k).
    """
    from odoo import Command

    with transaction(registry) as env:
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


def pos_load(registry, ids, repeat=20):
    """What the browser calls when the till opens (data_service.js
    ``loadInitialData``: ``pos.session.load_data(models_to_load=[])``)."""

    def load(env):
        session = env["pos.session"].with_user(ids["pos_user"])
        return session.browse(ids["pos_session"]).load_data([])

    def top_partners(env):
        config = env["pos.config"].with_user(ids["pos_user"])
        return config.browse(ids["pos_config"]).get_limited_partners_loading()

    with transaction(registry) as env:  # warm-up: the registry's caches
        load(env)
    seconds, queries, response = median_run(registry, load, repeat)
    # Odoo's own query of the partners a till preloads (the 100 with the most
    # POS orders, then by name), over all res.partner rows
    top, _queries, _rows = median_run(registry, top_partners, repeat)
    with transaction(registry) as env:
        _seconds, plan = slowest_select(env, top_partners, env, contains="LEFT JOIN pm")
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
        with _pos_booking(enabled), transaction(registry) as env:
            _order, queries, _sql = count_sql(env.cr, _pos_sync, env, ids, data)
        counts[enabled] = queries
    pattern = interleaved(orders, batch)
    times = {True: [], False: []}
    synced = {True: [], False: []}
    for pair in pattern:
        for enabled in pair:
            size = min(batch, orders - len(times[enabled]))
            with _pos_booking(enabled):
                for _k in range(size):
                    partner_id = partners[len(times[enabled]) % len(partners)]
                    data = data_for(partner_id)
                    with transaction(registry) as env:
                        start = time.perf_counter()
                        order_id = _pos_sync(env, ids, data)
                        times[enabled].append(time.perf_counter() - start)
                    synced[enabled].append(order_id)
    booked = {}
    with transaction(registry) as env:
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


def _run_pos_lookup(registry, args, ids):
    """(e)(iii): the till's member lookup among the bulk members of A."""
    node_ids = ids["nodes_A"]
    rng = random.Random(20260102)
    sample = sorted(rng.sample(node_ids, min(len(node_ids), POS_PHONES)))
    with transaction(registry) as env:
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
        with transaction(registry) as env:
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
            slowest, scans = slowest_select(
                env, Partner.points_pool_pos_lookup, calls[0][0], ids["pos_config"]
            )
        report(
            f"till lookup among {args.lots} members by {label}: median of {len(calls)}",
            f"{ms(statistics.median(times))}, {statistics.median(queries):g} queries "
            f"(max {ms(max(times))})",
        )
        report(f"  its slowest query ({ms(slowest)}): plan", scans)


def _run_pos(registry, args, ids):
    """(e) Point of Sale: sync cost, opening the till, member lookup."""
    print(
        f"(e)(i) POS sync of {args.orders} orders, addon / booking disabled...",
        flush=True,
    )
    node_ids = ids["nodes_A"]
    with transaction(registry) as env:
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
    report(
        "queries of one POS sync: addon / booking disabled",
        f"{on} / {off} ({on - off:+d})",
        f"{on / off:.2f}",
    )
    total_on, total_off = sum(times[True]), sum(times[False])
    report(
        f"POS sync of {len(times[True])} + {len(times[False])} orders: "
        "addon / booking disabled",
        f"{total_on:.1f} s / {total_off:.1f} s",
        f"{total_on / total_off:.3f}",
    )
    med_on, med_off = statistics.median(times[True]), statistics.median(times[False])
    report(
        "POS sync per order, median: addon / booking disabled",
        f"{ms(med_on)} / {ms(med_off)}",
        f"{med_on / med_off:.3f}",
    )
    report(
        "lots booked by those orders: addon / booking disabled",
        f"{booked[True]} / {booked[False]}",
    )
    print(f"(e)(ii) opening the till, {args.lots} members / 10...", flush=True)
    many, few = ids["pos_load"]["many"], ids["pos_load"]["few"]
    report(
        f"opening the till (load_data): {many['members']} members / {few['members']}",
        f"{ms(many['seconds'])} / {ms(few['seconds'])}",
        f"{many['seconds'] / few['seconds']:.2f}",
    )
    report(
        "  of which Odoo's top-100 partners query (get_limited_partners_loading)",
        f"{ms(many['top'])} / {ms(few['top'])}",
        f"{many['top'] / few['top']:.2f}",
    )
    rest_many, rest_few = many["seconds"] - many["top"], few["seconds"] - few["top"]
    report(
        "  the rest of load_data",
        f"{ms(rest_many)} / {ms(rest_few)}",
        f"{rest_many / rest_few:.2f}",
    )
    report(f"  the plan of that query with {many['members']} members", many["plan"])
    report(
        "opening the till: SQL queries / payload",
        f"{many['queries']:g} / {few['queries']:g} queries, "
        f"{many['kib']:.0f} / {few['kib']:.0f} KiB",
    )
    report(
        "opening the till: res.partner records loaded (of all partners)",
        f"{many['loaded']} of {many['partners']} / {few['loaded']} of {few['partners']}",
    )
    report(
        "opening the till: points.* models loaded",
        ", ".join(sorted(set(many["points"]) | set(few["points"]))) or "none",
    )
    print(f"(e)(iii) member lookup among {args.lots} members...", flush=True)
    _run_pos_lookup(registry, args, ids)


def run(registry, args, ids):
    _run_pos(registry, args, ids)
