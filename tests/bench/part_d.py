"""(d) Commissions.  A plan with direct, indirect, a rank differential over 9 ranks
and a peer bonus (depth 3, acknowledged) is activated in A; the chain's 20
referrers get the 9 ranks.  Orders of the chain's leaf (an upline of 20) and
of a member without a referrer are paid alternately (--repeat each): the
median time and queries of the payment (which accrues the commissions), of
the accrual alone, and of journalizing the order's lines, leaf / no upline.
"""

import statistics
import time

from . import checkout
from .harness import count_queries, ms, report, transaction


def _run_commissions(registry, args, ids):
    """(d) Accrual and posting of an order with a 20-deep upline and 9 ranks."""
    from odoo import Command

    node_ids = ids["nodes_A"]
    leaf = node_ids[20]
    print("(d) commissions: 20-deep upline and 9 ranks / no upline...", flush=True)
    with transaction(registry) as env:
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
        with transaction(registry) as env:
            pool = env["points.pool"].browse(ids["pool_A"])
            partner = env["res.partner"].browse(buyers[key])
            product = env["product.product"].browse(ids["product"])
            order = checkout.draft_orders(env, pool.company_id, partner, product)
            checkout.confirm(order)
            invoice = checkout.invoice(order)
        with transaction(registry) as env:
            start = time.perf_counter()
            _ignored, pay_queries = count_queries(
                env.cr, checkout.pay, invoice.with_env(env)
            )
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
            _ignored, accrual_queries = count_queries(
                env.cr, env[Line]._accrue_lots, lot
            )
            accrual = time.perf_counter() - start
            env.cr.execute("ROLLBACK TO SAVEPOINT bench_accrual")
            env.invalidate_all()
            start = time.perf_counter()
            _ignored, post_queries = count_queries(env.cr, lines._post_accruals)
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
    with transaction(registry) as env:
        env.cr.execute(
            "UPDATE points_commission_plan SET state = 'closed' WHERE id = %s",
            [plan.id],
        )
        env.registry.clear_cache()

    def med(key, column):
        return statistics.median(row[column] for row in results[key])

    report(
        "commission lines per order: 20-deep upline, 9 ranks / no upline",
        f"{med('leaf', 6):g} / {med('none', 6):g}",
    )
    for label, column, queries in (
        ("payment (accrues)", 0, 1),
        ("accrual alone (upline, compute, insert)", 2, 3),
        ("journalizing the order's lines", 4, 5),
    ):
        leaf_t, none_t = med("leaf", column), med("none", column)
        report(
            f"{label}: 20-deep upline / no upline",
            f"{ms(leaf_t)} / {ms(none_t)}",
            # no line to journalize without an upline: no ratio
            f"{leaf_t / none_t:.2f}" if med("none", 6) or column != 4 else "",
        )
        report(
            f"{label}: SQL queries",
            f"{med('leaf', queries):g} / {med('none', queries):g}",
        )


def run(registry, args, ids):
    _run_commissions(registry, args, ids)
