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

{parts}

Every unit of work (an order step, a settlement, the injection, a batch of drafts,
a POS sync) runs in its own transaction, committed, as requests would; the database
is kept (use --drop to remove it).  With the defaults it takes about 10 minutes on
2 cores, database creation included.

Example (private development cluster):
    python3 tests/benchmark.py -c /tmp/dev.conf -d pp_bench_1
    python3 tests/benchmark.py -c /tmp/dev.conf -d pp_bench_2 --parts e --drop

The code (tests/bench/): harness.py (transactions, counting and timing, the
table), database.py (create, drop), fixtures.py (companies, pools, the bulk
positions), checkout.py (the addon's order flow, step by step), web.py (part
(f)'s HTTP server and clients), part_a.py to part_f.py (one part each, its
description above is that module's doc).
"""

import argparse
import random
import sys
import time

from bench import part_a, part_b, part_c, part_d, part_e, part_f
from bench.database import drop_database, open_registry
from bench.fixtures import setup
from bench.harness import print_table, report

#: the parts in the order they run, each a module with ``run(registry, args, ids)``
PARTS = {
    "a": part_a,
    "b": part_b,
    "c": part_c,
    "d": part_d,
    "e": part_e,
    "f": part_f,
}


def _help():
    """This doc, the parts' own descriptions in place (a hanging indent each)."""
    parts = "\n\n".join(
        module.__doc__.strip().replace("\n", "\n    ") for module in PARTS.values()
    )
    return __doc__.replace("{parts}", parts)


def _parse_args(argv):
    parser = argparse.ArgumentParser(
        description=_help(),
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
        print(_help())
        sys.exit(2)
    args = parser.parse_args(argv)
    parts = {part.strip().lower() for part in args.parts.split(",") if part.strip()}
    unknown = parts - set(PARTS)
    if unknown or not parts:
        parser.error(f"--parts: a comma separated list of {', '.join(PARTS)}")
    args.parts = parts
    return args


def main(argv):
    args = _parse_args(argv)
    run_start = time.perf_counter()
    registry = open_registry(args)
    rng = random.Random(20260101)
    print("set-up...", flush=True)
    ids = setup(registry, args, rng)
    for name, part in PARTS.items():
        if name in args.parts:
            part.run(registry, args, ids)
    report("total run time", f"{time.perf_counter() - run_start:.0f} s")
    print_table()
    if args.drop:
        drop_database(args.database)
        print(f"dropped {args.database} and its filestore")


if __name__ == "__main__":
    main(sys.argv[1:])
