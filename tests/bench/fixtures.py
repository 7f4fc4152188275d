"""The set-up every part runs on: companies A (the main one) and B with charts
and pools, a product, buyers, and the bulk positions, inserted by SQL: --lots
members, each with one open lot and a referral node, in A and 10 in B.

The lots are what the pure core would have minted (``core.order``,
``core.pool``); their SQL rows are written with the core's conversions
(``core.money``).
"""

import io
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from .database import MODULES
from .harness import plan_scans, report, transaction


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


def _generate_lots(n, due, rng, params, rate):
    """Open lots as the core mints them at a price q (``estimate_points``:
    u = floor(alpha I / q); cap m B; trigger (C - R) / u), ``rate`` the
    contribution rate (I = rate x B, ``order_amounts``).

    The first ``due`` lots were minted at q in [1.00, 1.01) (trigger 14.29 to 14.43
    with the seeds' rates), the others at q in [1.25, 2.50) (trigger >= 17.86), so
    that a price in between makes exactly ``due`` lots exit.  Core units: amounts
    in minor units, points in 1e-4.
    """
    from odoo.addons.points_pool.core.order import (
        OrderLine,
        estimate_points,
        order_amounts,
    )
    from odoo.addons.points_pool.core.pool import LOT_OPEN, Lot

    bases = [200, 300, 500, 800, 1000, 1200, 1500, 2000, 3000, 5000]
    lots = []
    for index in range(n):
        basis = rng.choice(bases) * params.scale
        _basis, inflow, _margin, _units = order_amounts(
            [OrderLine(None, 1, basis)], rate
        )
        if index < due:
            price = 1 + Fraction(rng.randrange(0, 100), 10_000)
        else:
            price = Fraction(rng.randrange(12_500, 25_000), 10_000)
        units = estimate_points(inflow, price, params)
        lot = Lot(index, None, basis, inflow, params.cap(basis), state=LOT_OPEN)
        lot.minted = lot.held = units
        lots.append(lot)
    return lots


def _bulk_positions(env, pool, lots, label, params):
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
    from odoo.addons.points_pool.core.money import ceil_decimal, to_decimal
    from odoo.addons.points_pool.core.pool import POINT_DIGITS, PoolState

    digits = params.digits
    held = [str(to_decimal(lot.held, POINT_DIGITS)) for lot in lots]
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
    node_ids = _bulk_nodes(env, [member_of[partner_id] for partner_id in partner_ids])
    start = datetime(2025, 1, 1)
    now = datetime.utcnow().replace(microsecond=0).isoformat(sep=" ")
    buffer = io.StringIO()
    for index, lot in enumerate(lots):
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
                    str(to_decimal(lot.basis, digits)),
                    str(to_decimal(lot.inflow, digits)),
                    str(to_decimal(lot.cap, digits)),
                    str(to_decimal(lot.minted, POINT_DIGITS)),
                    str(to_decimal(lot.held, POINT_DIGITS)),
                    "0",
                    "0",
                    "0",
                    str(ceil_decimal(lot.trigger(params))),
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
    state = PoolState(
        fund=sum(lot.inflow for lot in lots), supply=sum(lot.held for lot in lots)
    )
    price = state.price(params)
    cr.execute(
        "UPDATE points_pool SET fund = %s, supply = %s, reserve = 0, pending = 0, "
        "last_price = %s, last_price_exact = %s WHERE id = %s",
        [
            to_decimal(state.fund, digits),
            to_decimal(state.supply, POINT_DIGITS),
            ceil_decimal(price),
            str(price),
            pool.id,
        ],
    )
    env.invalidate_all()
    lowest = min(lot.trigger(params) for lot in lots)
    assert lowest > price, "a bulk lot would exit at once"
    return price, lowest, node_ids


def _bulk_nodes(env, member_ids):
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
    return node_ids


def _explain_due_lots(env, pool):
    """The scan node of the plan of the engine's due-lots query."""
    env.cr.execute(
        "EXPLAIN SELECT id FROM points_lot WHERE pool_id = %s AND state = 'open' "
        "AND trigger_price <= %s ORDER BY trigger_price, id LIMIT 500",
        [pool.id, Decimal(repr(pool.price_exact))],
    )
    return plan_scans(env.cr)


def setup(registry, args, rng):
    """Companies A and B with charts and pools, a product, buyers, bulk positions.

    :return: ids: pool_A, pool_B, product, buyer_A, buyer_B, buyers, nodes_A,
        nodes_B (the referral nodes of the bulk members, see ``_bulk_nodes``), and
        for part (e) the till's (``part_e.setup_pos``, ``part_e.pos_load``)
    """
    from odoo.addons.points_pool.core.money import fraction_of

    from . import part_e

    with transaction(registry) as env:
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
        report(
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
        # the pools' own parameters (both alike) for the bulk lots
        params = pool_a._get_params()
        rate = fraction_of(pool_a.contribution_rate) / 100
        ids = {
            "pool_A": pool_a.id,
            "pool_B": pool_b.id,
            "product": product.id,
            "buyer_A": buyers[0].id,
            "buyer_B": buyers[1].id,
            "buyers": buyers[2:].ids,
        }

    if "e" in args.parts:
        ids.update(part_e.setup_pos(registry))
    # the lots of A then B are drawn in this order whatever the insertion order
    lots_a = _generate_lots(args.lots, args.exits, rng, params, rate)
    lots_b = _generate_lots(10, 0, rng, params, rate)
    start = time.perf_counter()
    with transaction(registry) as env:
        pool_b = env["points.pool"].browse(ids["pool_B"])
        price_b, lowest_b, ids["nodes_B"] = _bulk_positions(
            env, pool_b, lots_b, "B", params
        )
    bulk = time.perf_counter() - start
    if "e" in args.parts:
        # (e)(ii): opening the till with B's 10 members in the database
        ids["pos_load"] = {"few": part_e.pos_load(registry, ids)}
    start = time.perf_counter()
    with transaction(registry) as env:
        pool_a = env["points.pool"].browse(ids["pool_A"])
        price_a, lowest_a, ids["nodes_A"] = _bulk_positions(
            env, pool_a, lots_a, "A", params
        )
    with transaction(registry) as env:
        env.cr.execute("ANALYZE res_partner, points_member, points_lot, points_pool")
    bulk += time.perf_counter() - start
    report(f"bulk insert: {args.lots} positions in A, 10 in B", f"{bulk:.1f} s")
    if "e" in args.parts:
        # and with the --lots members of A as well
        ids["pos_load"]["many"] = part_e.pos_load(registry, ids)
    with transaction(registry) as env:
        for name, price, lowest in (("A", price_a, lowest_a), ("B", price_b, lowest_b)):
            pool = env["points.pool"].browse(ids[f"pool_{name}"])
            report(
                f"pool {name}: members / price / lowest trigger",
                f"{pool.member_count} / {float(price):.4f} / {float(lowest):.4f}",
            )
        pool_a = env["points.pool"].browse(ids["pool_A"])
        report("due-lots query plan in A", _explain_due_lots(env, pool_a))
    return ids
