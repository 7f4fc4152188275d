"""The benchmark's harness: transactions, counting and timing, the printed table.

Every unit of work runs in :func:`transaction` (a cursor of its own,
committed, as a request would); :func:`report` prints a metric at once and
keeps it for :func:`print_table` at the end.  Nothing here knows a part.
"""

import statistics
import time
from contextlib import contextmanager

from .web import percentile

RESULTS = []  # (metric, value, ratio)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def report(metric, value, ratio=""):
    RESULTS.append((metric, value, ratio))
    print(f"  {metric}: {value}" + (f"  (ratio {ratio})" if ratio else ""), flush=True)


def print_table():
    width = max(len(metric) for metric, _v, _r in RESULTS)
    vwidth = max(len(value) for _m, value, _r in RESULTS)
    print()
    print(f"{'metric':<{width}}  {'value':<{vwidth}}  ratio")
    print(f"{'-' * width}  {'-' * vwidth}  -----")
    for metric, value, ratio in RESULTS:
        print(f"{metric:<{width}}  {value:<{vwidth}}  {ratio}".rstrip())


@contextmanager
def transaction(registry):
    """A new cursor and environment, committed at the end, like one request.

    A fresh transaction per unit of work also keeps the ORM's list of live
    environments short (a single long transaction slows every call down).
    """
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def count_queries(cr, func, *args):
    """Result of ``func(*args)`` and the number of SQL queries it ran."""
    before = cr.sql_log_count
    result = func(*args)
    return result, cr.sql_log_count - before


def count_sql(cr, func, *args):
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
        result, _queries = count_queries(cr, func, *args)
    finally:
        cursor_class.execute = original
    # every cursor's: a pool event may run on a connection of its own
    return result, calls[0], spent[0]


def median_run(registry, func, repeat=20):
    """Median time and queries of ``func(env)`` with a cold ORM cache each time."""
    times, queries = [], []
    with transaction(registry) as env:
        for _i in range(repeat):
            env.invalidate_all()
            before = env.cr.sql_log_count
            start = time.perf_counter()
            result = func(env)
            times.append(time.perf_counter() - start)
            queries.append(env.cr.sql_log_count - before)
    return statistics.median(times), statistics.median(queries), result


def timed(func, *args, runs=1):
    """The last result of ``func(*args)`` and the seconds of each of ``runs`` calls."""
    seconds = []
    for _i in range(runs):
        start = time.perf_counter()
        result = func(*args)
        seconds.append(time.perf_counter() - start)
    return result, seconds


def slowest_select(env, func, *args, contains="SELECT"):
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
    return seconds, plan_scans(env.cr)


def p50_p95(times):
    return statistics.median(times), percentile(times, 0.95)


def plan_scans(cr):
    """The scan nodes of the plan an ``EXPLAIN`` just fetched on ``cr``."""
    plan = [row[0] for row in cr.fetchall()]
    scans = [line.strip(" ->").split("  (")[0] for line in plan if "Scan" in line]
    return "; ".join(dict.fromkeys(scans)) or plan[0]


def interleaved(total, batch):
    """Batches of at most ``batch`` of ``total`` units per state, in the pattern
    A B B A A B ... (``True`` is A), which cancels a linear drift: a list of
    ``(True, False)`` / ``(False, True)`` pairs."""
    batches = -(-total // batch)
    return [(True, False) if i % 2 == 0 else (False, True) for i in range(batches)]
