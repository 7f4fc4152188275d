"""(c) The referral tree.  The bulk members of A get referral nodes: a chain of 21
and a 10-ary tree below its root.  Median time and SQL queries of reading an
upline of depth 20 and a downline of about a tenth of the members, against
vanilla Odoo resolving the same shape on res.partner.parent_id (parent_of /
child_of, level by level); the team statistics of that downline; the rank
job over every member.
"""

import time

from .harness import median_run, ms, report, transaction


def _run_referral(registry, args, ids):
    """(c) The referral tree against vanilla Odoo's res.partner hierarchy."""
    node_ids = ids["nodes_A"]
    print(f"(c) referral tree of {len(node_ids)} members in A...", flush=True)
    leaf, team_root = node_ids[20], node_ids[21]
    with transaction(registry) as env:
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
        t_ours, q_ours, n_ours = median_run(registry, ours)
        t_van, q_van, n_van = median_run(registry, vanilla)
        assert n_ours == n_van, (label, n_ours, n_van)
        report(
            f"{label} ({n_ours} members): tree / res.partner hierarchy",
            f"{ms(t_ours)} / {ms(t_van)}",
            f"{t_ours / t_van:.2f}",
        )
        report(
            f"{label}: SQL queries, tree / res.partner hierarchy",
            f"{q_ours:g} / {q_van:g}",
        )
    t_stats, q_stats, stats = median_run(registry, ours_stats, repeat=5)
    with transaction(registry) as env:
        # undo the vanilla comparison's partner hierarchy: later parts pay orders
        # of these partners, and a 20-deep res.partner chain slows Odoo's own
        # payment code (commercial partner, child_of searches) by seconds
        env.cr.execute(
            "UPDATE res_partner p SET parent_id = NULL FROM points_referral_node n "
            "WHERE p.id = n.partner_id AND p.parent_id IS NOT NULL"
        )
    row = stats[team_root]
    report(
        f"team size and volume of {row['team']} members",
        f"{ms(t_stats)}, {q_stats:g} queries",
    )
    with transaction(registry) as env:
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
    with transaction(registry) as env:
        start = time.perf_counter()
        env["points.referral.node"]._cron_update_ranks()
        elapsed = time.perf_counter() - start
        ranked = env["points.referral.node"].search_count([("rank_id", "!=", False)])
    report(
        f"rank job over {len(node_ids)} members ({ranked} ranked)", f"{elapsed:.1f} s"
    )


def run(registry, args, ids):
    _run_referral(registry, args, ids)
