#!/usr/bin/env python3
"""Multi-worker load test of the points_pool addon (JSON-RPC against a real server).

Usage:
    python3 tests/load.py [--short] [--drop] [options]
    python3 tests/load.py --throughput [--clients 8] [--sells-per-client 25] [--drop]

It uses the private PostgreSQL cluster of data/common.sh (started if needed), drops
and recreates the database --db with points_pool and no demo data, configures the
company pool (return window 0, contribution 30%, exit multiple 3, cash share 70%,
commission hold 0), a product without taxes, --customers customers and an active
commission plan with one direct rule (unless --no-plan), then starts Odoo with
4 workers and 1 cron thread on 127.0.0.1:--port (log .state/load-odoo.log).

--clients threads then drive real flows over /jsonrpc (execute_kw as admin):
  warm-up   orders only (confirm, invoice, post, pay), then the settlement queue is
            waited for, then members are bound into a referral tree;
  mixed     the other orders (some customers' first orders paid concurrently), sells,
            injections, withdrawals (request + approve), credit notes (half of them
            two 50% notes on one invoice, the others full) and commission jobs, all
            at once; sells, injections, withdrawal requests and approvals carry an
            idempotency_key and some are sent twice with the same key (a retry).
Mid-run one busy HTTP worker is SIGKILLed (--no-kill: not); calls in flight on it
are "killed in flight" (allowed) and are retried: keyed calls with the same key,
orders and credit notes by reading their state back and doing the remaining steps.
A UserError that is a business refusal (not enough free points, not enough in the
wallet) counts as "refused"; any other failure is a client error.

At the end it waits for the queue to drain, runs the commission jobs, and checks:
every paid customer invoice of a sale order has exactly one lot; ledger numbers are
1..N without gaps; the price never falls along the ledger; every row of the pool's
reconciliation is ok (points.pool.get_reconciliation, else the points.pool.check
wizard, plus direct SQL); a retried key was booked once and answered the same; the
ledger holds one line per keyed call. It prints counts and p50/p95 latencies per
operation and the pool events per second of the mixed phase, and exits 1 on any
failed check or client error (2 on a set-up failure). The Odoo server is always
stopped at the end (also on Ctrl-C).

Options (defaults, then --short's):
    --db NAME          database (pp_load)
    --port N           HTTP port (8269; a free port is picked if it is taken)
    --gevent-port N    gevent port (port + 3)
    --clients N        client threads (8 / 4)
    --orders N         orders in all, warm-up included (200 / 40)
    --sells N          sells (20 / 6)
    --injections N     injections (4 / 2)
    --withdrawals N    withdrawals, each a request and an approval (6 / 2)
    --refunds N        refunds: half two 50% credit notes on one invoice, half full (6 / 2)
    --customers N      customers, a third of them first seen in the mixed phase (24 / 8)
    --duration S       wall-time cap of the warm-up and mixed phases (600 / 120)
    --seed N           random seed (1)
    --no-kill          do not kill a worker
    --no-plan          no commission plan
    --drop             drop the database at the end
    --addons-path DIRS extra addons directories (comma separated) searched before the
                       repository's, e.g. another checkout of points_pool; the
                       configuration then goes to .state/load-odoo.conf

Throughput benchmark (--throughput; no mixed phase, none of the checks above): the
pool-event rate of --clients clients selling on ONE pool against the same calls spread
over --clients POOLS (one per company), against the same 4-worker server. Set-up (not
timed, one `odoo shell` transaction before the server starts, log
.state/tput-setup.log): --clients - 1 more companies with the generic chart (the main
company is the first), in each a pool (return window 0, contribution 30%, exit multiple
3), a product without taxes and --clients customers with an order paid and settled;
admin joins every company and the pool managers. After 2 untimed sells per client in
each layout, the phases run A B B A: in A client i sells --sells-per-client times 1 point
as member i of the main company's pool, in B as member i of company i's pool
(points.member.action_sell with an idempotency key, allowed_company_ids the one
company). Per phase and summed per layout: sells, ledger lines numbered, elapsed (first
call to last answer), pool events per second (ledger lines / elapsed), p50/p95 latency
and the "could not serialize" errors and concurrency retries of the server log; then
`throughput ratio (one pool / eight pools): X.XX` (goal >= 0.90). Once the entries are
posted, every pool's points.pool.get_reconciliation must be all ok. Exit 1 on any
failed call (a business refusal included) or reconciliation row, 2 on a set-up failure.
    --sells-per-client N  sells per client and phase (25)
"""

import argparse
import configparser
import itertools
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import psutil
import psycopg2
import requests

# the benchmark's HTTP helpers, tests/bench/web.py (this script's folder is on sys.path)
from bench.web import percentile, port_free
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".state"
CONF = STATE / "odoo.conf"
LOAD_CONF = STATE / "load-odoo.conf"  # with --addons-path only
SERVER_LOG = STATE / "load-odoo.log"
INSTALL_LOG = STATE / "load-install.log"
MODULE = "points_pool"
MANAGER_GROUP = "points_pool_group_manager"

FULL = {
    "clients": 8,
    "orders": 200,
    "sells": 20,
    "injections": 4,
    "withdrawals": 6,
    "refunds": 6,
    "customers": 24,
    "duration": 600.0,
}
SHORT = {
    "clients": 4,
    "orders": 40,
    "sells": 6,
    "injections": 2,
    "withdrawals": 2,
    "refunds": 2,
    "customers": 8,
    "duration": 120.0,
}
WORKERS = 4
PAID = ("paid", "in_payment")
PRICES = (50, 80, 100, 120, 160, 200, 300, 500)
EPS = 1e-9
# business refusals: UserError/ValidationError texts of the addon that are legitimate
REFUSALS = (
    re.compile(r"cannot sell .* points: only .* free", re.I | re.S),
    re.compile(r"cannot withdraw .*wallet has .* available", re.I | re.S),
    re.compile(r"wallet of .* holds .* less than", re.I | re.S),
    re.compile(r"not enough points", re.I),
)
BUSINESS_ERRORS = ("odoo.exceptions.UserError", "odoo.exceptions.ValidationError")


def log(message=""):
    print(message, flush=True)


# ----------------------------------------------------------------------
# arguments
# ----------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="CI size (see above)")
    parser.add_argument("--db", default="pp_load")
    parser.add_argument("--port", type=int, default=8269)
    parser.add_argument("--gevent-port", type=int)
    for name in ("clients", "orders", "sells", "injections", "withdrawals"):
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--refunds", type=int)
    parser.add_argument("--customers", type=int)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--no-plan", action="store_true")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--addons-path", default="")
    parser.add_argument(
        "--throughput", action="store_true", help="throughput benchmark (see above)"
    )
    parser.add_argument("--sells-per-client", type=int, default=25)
    args = parser.parse_args(argv)
    for name, value in (SHORT if args.short else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not re.fullmatch(r"[A-Za-z0-9_]+", args.db):
        parser.error("--db: letters, digits and _ only")
    if args.clients < 1 or args.orders < 1 or args.customers < 2:
        parser.error("--clients and --orders must be >= 1, --customers >= 2")
    if args.sells_per_client < 1:
        parser.error("--sells-per-client must be >= 1")
    if args.gevent_port is None:
        args.gevent_port = args.port + 3
    return args


# ----------------------------------------------------------------------
# cluster, database
# ----------------------------------------------------------------------
def prepare_cluster(args):
    """Start the private cluster and write .state/odoo.conf (data/common.sh).

    :return: the connection options; ``args.conf``: the configuration file to use
    """
    subprocess.run(
        [
            "bash",
            "-c",
            "set -euo pipefail; source data/common.sh; "
            "pp_require_pg; pp_start_cluster; pp_write_conf",
        ],
        cwd=ROOT,
        check=True,
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(CONF)
    options = parser["options"]
    args.conf = CONF
    extra = [str(Path(p).resolve()) for p in args.addons_path.split(",") if p.strip()]
    if extra:
        options["addons_path"] = ",".join(extra + [options.get("addons_path", "")])
        with open(LOAD_CONF, "w") as conf:
            parser.write(conf)
        args.conf = LOAD_CONF
    return {
        "host": options.get("db_host"),
        "port": int(options.get("db_port") or 5432),
        "user": options.get("db_user") or "odoo",
        "data_dir": options.get("data_dir"),
    }


def pg_connect(pg, dbname):
    conn = psycopg2.connect(
        host=pg["host"], port=pg["port"], user=pg["user"], dbname=dbname
    )
    conn.autocommit = True
    return conn


def drop_database(pg, db):
    conn = pg_connect(pg, "postgres")
    try:
        with conn.cursor() as cr:
            cr.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(db)
                )
            )
    finally:
        conn.close()
    if pg["data_dir"]:
        shutil.rmtree(Path(pg["data_dir"]) / "filestore" / db, ignore_errors=True)


def create_database(args):
    """Fresh database with points_pool, no demo data (admin / admin)."""
    cmd = [
        "odoo",
        "-c",
        str(args.conf),
        "-d",
        args.db,
        "-i",
        MODULE,
        "--without-demo=all",
        "--stop-after-init",
        "--db-filter",
        f"^{args.db}$",
        "--http-port",
        str(args.port),
        "--log-level=warn",
        "--logfile",
        str(INSTALL_LOG),
    ]
    start = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SetupError(f"installing {MODULE} failed, see {INSTALL_LOG}")
    return time.monotonic() - start


class SetupError(Exception):
    pass


def free_port(preferred, avoid=()):
    if preferred not in avoid and port_free(preferred):
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in avoid:
            return port


# ----------------------------------------------------------------------
# the Odoo server (prefork: a master, 4 HTTP workers, a cron worker, gevent)
# ----------------------------------------------------------------------
class OdooServer:
    def __init__(self, args):
        self.args = args
        self.port = args.port
        self.proc = None
        self.kill_time = None
        self.killed = None  # (pid, busy)

    def start(self):
        cmd = [
            "odoo",
            "-c",
            str(self.args.conf),
            "-d",
            self.args.db,
            "--db-filter",
            f"^{self.args.db}$",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(self.args.gevent_port),
            "--workers",
            str(WORKERS),
            "--max-cron-threads",
            "1",
            "--limit-time-real",
            "600",
            "--logfile",
            str(SERVER_LOG),
        ]
        SERVER_LOG.unlink(missing_ok=True)
        # own session: Ctrl-C reaches this script only, which then stops the server
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, timeout=120):
        start = time.monotonic()
        url = f"http://127.0.0.1:{self.port}/web/health"
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise SetupError(f"odoo exited with code {self.proc.returncode}")
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return time.monotonic() - start
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SetupError(f"odoo did not answer on {url} within {timeout} s")

    def children(self):
        """HTTP and cron workers (not the gevent process)."""
        try:
            master = psutil.Process(self.proc.pid)
            kids = master.children()
        except psutil.Error:
            return []
        result = []
        for child in kids:
            try:
                if "gevent" not in child.cmdline():
                    result.append(child)
            except psutil.Error:
                continue
        return result

    def _serving(self, proc):
        """Whether ``proc`` holds an accepted connection on the HTTP port."""
        conns = getattr(proc, "net_connections", None) or proc.connections
        return any(
            conn.status == psutil.CONN_ESTABLISHED
            and conn.laddr
            and conn.laddr.port == self.port
            for conn in conns(kind="tcp")
        )

    def kill_busy_worker(self, tries=20):
        """SIGKILL the HTTP worker serving a request that used the most CPU."""
        candidate = None
        for _attempt in range(tries):
            workers = self.children()
            before = {}
            for proc in workers:
                try:
                    before[proc.pid] = sum(proc.cpu_times()[:2])
                except psutil.Error:
                    continue
            time.sleep(0.2)
            best = None
            for proc in workers:
                try:
                    delta = sum(proc.cpu_times()[:2]) - before.get(proc.pid, 0)
                    busy = self._serving(proc)
                except psutil.Error:
                    continue
                if busy and (best is None or delta > best[1]):
                    best = (proc, delta)
            if best:
                candidate = best[0]
                break
        if candidate is None:
            return None
        self.kill_time = time.monotonic()
        try:
            os.kill(candidate.pid, signal.SIGKILL)
        except ProcessLookupError:
            self.kill_time = None
            return None
        self.killed = candidate.pid
        return candidate.pid

    def respawned(self, timeout=15):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            pids = {proc.pid for proc in self.children()}
            if len(pids) >= WORKERS + 1 and self.killed not in pids:
                return True
            time.sleep(0.5)
        return False

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the process group started above
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass


# ----------------------------------------------------------------------
# JSON-RPC
# ----------------------------------------------------------------------
class CallFailed(Exception):
    """A failed call; ``kind``: server, conn, timeout, http; ``outcome`` set
    by :meth:`Load.classify`: refused, killed, error."""

    def __init__(self, kind, text, name=None):
        super().__init__(text)
        self.kind = kind
        self.text = text
        self.name = name
        self.outcome = "error"
        self.start = self.end = 0.0


class Rpc:
    _ids = itertools.count(1)

    def __init__(self, port, db, timeout=300):
        self.url = f"http://127.0.0.1:{port}/jsonrpc"
        self.db = db
        self.uid = None
        self.password = "admin"
        self.timeout = timeout

    def login(self, user="admin", password="admin"):
        self.password = password
        self.uid = self.jsonrpc("common", "login", [self.db, user, password])
        if not self.uid:
            raise SetupError(f"login {user} failed")
        return self.uid

    def jsonrpc(self, service, method, args):
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
            "id": next(self._ids),
        }
        try:
            response = requests.post(
                self.url,
                json=body,
                timeout=(10, self.timeout),
                headers={"Connection": "close"},
            )
        except requests.Timeout as error:
            raise CallFailed("timeout", f"timeout: {error}") from error
        except requests.RequestException as error:
            raise CallFailed("conn", f"connection error: {error}") from error
        if response.status_code != 200:
            raise CallFailed("http", f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as error:
            raise CallFailed("http", "answer is not JSON") from error
        if "error" in data:
            error = data["error"]
            detail = error.get("data") or {}
            text = detail.get("message") or error.get("message") or str(error)
            raise CallFailed("server", text, name=detail.get("name"))
        return data.get("result")

    def call(self, model, method, *args, context=None, **kwargs):
        if context:
            kwargs["context"] = context
        return self.jsonrpc(
            "object",
            "execute_kw",
            [self.db, self.uid, self.password, model, method, list(args), kwargs],
        )


# ----------------------------------------------------------------------
# statistics
# ----------------------------------------------------------------------
class Stats:
    OUTCOMES = ("ok", "refused", "killed", "error")

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}
        self.errors = Counter()

    def add(self, label, outcome, seconds, text=None):
        with self.lock:
            row = self.rows.setdefault(
                label, {"lat": [], **dict.fromkeys(self.OUTCOMES, 0)}
            )
            row[outcome] += 1
            if outcome == "ok":
                row["lat"].append(seconds)
            if outcome == "error" and text:
                first = text.strip().splitlines()[0] if text.strip() else text
                self.errors[label, first[:200]] += 1

    def total(self, outcome, calls_only=True):
        return sum(
            row[outcome]
            for label, row in self.rows.items()
            if not (calls_only and label.endswith("(flow)"))
        )


# ----------------------------------------------------------------------
# the load
# ----------------------------------------------------------------------
class Load:
    def __init__(self, args, server, rpc):
        self.args = args
        self.server = server
        self.rpc = rpc
        self.stats = Stats()
        self.rng = random.Random(args.seed)
        self.tag = f"load{args.seed}-{os.getpid()}"
        self.lock = threading.Lock()
        self.local = threading.local()
        self.problems = []
        self.idempotent = {}  # method -> False once it refused the keyword
        self.keyed_ok = defaultdict(dict)  # kind -> {key: first answer}
        self.unknown = Counter()  # kind -> calls of unknown outcome (killed, no key)
        self.retried = Counter()  # kind -> keys sent twice
        self.invoices = {}  # order ref -> (invoice id, price)
        self.completed = 0  # order flows completed
        self.pool_id = None
        self.product_id = None
        self.customers = []
        self.fresh = []
        self.stop = threading.Event()
        self.deadline = None
        self.popped = 0
        self.task_count = 0

    # -- bookkeeping ----------------------------------------------------
    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    def classify(self, error):
        if error.kind == "server":
            if error.name in BUSINESS_ERRORS and any(
                pattern.search(error.text) for pattern in REFUSALS
            ):
                return "refused"
            return "error"
        kill = self.server.kill_time
        if (
            error.kind == "conn"
            and kill is not None
            and error.start <= kill + 0.05
            and error.end >= kill - 0.05
        ):
            return "killed"
        return "error"

    def call(self, model, method, *args, **kwargs):
        start = time.monotonic()
        try:
            return self.rpc.call(model, method, *args, **kwargs)
        except CallFailed as error:
            error.start, error.end = start, time.monotonic()
            error.outcome = self.classify(error)
            raise

    @contextmanager
    def step(self, label):
        start = time.monotonic()
        try:
            yield
        except CallFailed as error:
            self.stats.add(label, error.outcome, time.monotonic() - start, error.text)
            raise
        self.stats.add(label, "ok", time.monotonic() - start)

    def keyed_call(self, model, method, ids, args, key):
        """``method(ids, *args, idempotency_key=key)``; without the key once
        the addon refused the keyword (a failed check, not a client error)."""
        if self.idempotent.get(method, True):
            try:
                return self.call(model, method, ids, *args, idempotency_key=key)
            except CallFailed as error:
                if not (
                    error.kind == "server"
                    and "idempotency_key" in error.text
                    and (error.name == "builtins.TypeError" or "keyword" in error.text)
                ):
                    raise
                with self.lock:
                    first = self.idempotent.get(method, True)
                    self.idempotent[method] = False
                if first:
                    self.problem(
                        f"{model}.{method} does not accept idempotency_key: "
                        f"{error.text.strip().splitlines()[-1][:160]}"
                    )
        return self.call(model, method, ids, *args)

    def keyed(self, kind, label, model, method, ids, args, key):
        """A keyed call; retried with the same key when killed in flight.

        :return: the answer, or None (refused, error, killed without a key);
            the outcome is left in ``self.local.outcome``
        """
        self.local.outcome = "killed"
        for _attempt in range(3):
            try:
                with self.step(label):
                    answer = self.keyed_call(model, method, ids, args, key)
            except CallFailed as error:
                self.local.outcome = error.outcome
                if error.outcome == "killed" and self.idempotent.get(method, True):
                    continue  # same key again: books at most once
                if error.outcome == "killed":
                    with self.lock:
                        self.unknown[kind] += 1
                return None
            with self.lock:
                self.keyed_ok[kind].setdefault(key, answer)
            self.local.outcome = "ok"
            return answer
        return None

    def resend(self, kind, label, model, method, ids, args, key, first):
        """Send a keyed call again (a client retry): same answer, booked once."""
        if first is None or not self.idempotent.get(method, True):
            return
        answer = self.keyed(kind, label, model, method, ids, args, key)
        with self.lock:
            self.retried[kind] += 1
        if answer is None and self.local.outcome != "killed":
            self.problem(f"{kind} {key}: the retry failed ({self.local.outcome})")
        elif answer is not None and answer != first:
            self.problem(
                f"{kind} {key}: the retry answered {answer!r}, first {first!r}"
            )

    # -- set-up -----------------------------------------------------------
    def setup(self):
        rpc = self.rpc
        rpc.login()
        group = rpc.call(
            "ir.model.data",
            "search_read",
            [("module", "=", MODULE), ("name", "=", MANAGER_GROUP)],
            ["res_id"],
        )[0]["res_id"]
        user = rpc.call("res.users", "read", [rpc.uid], ["groups_id"])[0]
        if group not in user["groups_id"]:
            rpc.call("res.users", "write", [rpc.uid], {"groups_id": [(4, group)]})
        self.pool_id = rpc.call("points.pool", "get_company_pool")
        rpc.call(
            "points.pool",
            "write",
            [self.pool_id],
            {
                "return_window_days": 0,
                "contribution_rate": 30.0,
                "exit_multiple": 3.0,
                "cash_share": 70.0,
                "commission_hold_days": 0,
            },
        )
        self.product_id = rpc.call(
            "product.product",
            "create",
            {
                "name": "Load test product",
                "type": "service",
                "list_price": 100.0,
                "invoice_policy": "order",
                "taxes_id": [(6, 0, [])],
            },
        )
        self.customers = rpc.call(
            "res.partner",
            "create",
            [
                {"name": f"Load customer {n:03d}", "email": f"load{n}@example.com"}
                for n in range(self.args.customers)
            ],
        )
        self.fresh = self.customers[-max(1, self.args.customers // 3) :]

    def bind_and_plan(self):
        """Bind the members into a binary referral tree; activate a direct plan."""
        members = {
            row["partner_id"][0]: row["id"]
            for row in self.rpc.call(
                "points.member",
                "search_read",
                [("pool_id", "=", self.pool_id)],
                ["partner_id"],
            )
        }
        ordered = [members[p] for p in self.customers if p in members]
        bound = 0
        for index in range(1, len(ordered)):
            parent = ordered[(index - 1) // 2]
            code = self.rpc.call("points.member", "get_referral_info", [parent])["code"]
            self.rpc.call(
                "points.member", "action_bind_referrer", [ordered[index]], code
            )
            bound += 1
        if self.args.no_plan:
            return bound, None
        plan = self.rpc.call(
            "points.commission.plan",
            "create",
            {
                "name": "Load test plan",
                "rule_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Direct 5%",
                            "kind": "direct",
                            "base": "amount",
                            "value_type": "rate",
                            "rate": 5.0,
                        },
                    )
                ],
            },
        )
        self.rpc.call("points.commission.plan", "action_activate", [plan])
        return bound, plan

    def seed(self):
        """One order and a full credit note, one after the other.

        Odoo numbers the first entry of a journal sequence without any row to
        conflict on, so concurrent first postings get the same name ("Another
        entry with the same name already exists."): not the addon's concern.
        """
        ref = f"{self.tag}-seed"
        self.order(ref, self.customers[0], 100)
        invoice = self.invoices.pop(ref, None)
        if invoice:
            self.refund("seed", invoice[0], invoice[1], partial=False)

    # -- orders -----------------------------------------------------------
    def order(self, ref, partner, price):
        start = time.monotonic()
        for attempt in range(3):
            try:
                invoice = self._order_steps(ref, partner, price, resume=attempt > 0)
            except CallFailed as error:
                if error.outcome == "killed":
                    continue  # read the state back, do what is left
                self.stats.add("order (flow)", error.outcome, 0)
                return
            with self.lock:
                self.invoices[ref] = (invoice, price)
                self.completed += 1
            self.stats.add("order (flow)", "ok", time.monotonic() - start)
            return
        self.stats.add("order (flow)", "killed", 0)

    def _order_state(self, ref):
        with self.step("order.read"):
            rows = self.call(
                "sale.order",
                "search_read",
                [("client_order_ref", "=", ref)],
                ["state", "invoice_ids"],
            )
            if not rows:
                return None, None
            order = rows[0]
            invoice = None
            if order["invoice_ids"]:
                invoice = self.call(
                    "account.move",
                    "read",
                    order["invoice_ids"][:1],
                    ["state", "payment_state"],
                )[0]
        return order, invoice

    def _order_steps(self, ref, partner, price, resume):
        order, invoice = self._order_state(ref) if resume else (None, None)
        if order is None:
            with self.step("order.create"):
                order_id = self.call(
                    "sale.order",
                    "create",
                    {
                        "partner_id": partner,
                        "client_order_ref": ref,
                        "order_line": [
                            (
                                0,
                                0,
                                {
                                    "product_id": self.product_id,
                                    "product_uom_qty": 1,
                                    "price_unit": price,
                                    "tax_id": [(6, 0, [])],
                                },
                            )
                        ],
                    },
                )
            order = {"id": order_id, "state": "draft", "invoice_ids": []}
        if order["state"] in ("draft", "sent"):
            with self.step("order.confirm"):
                self.call("sale.order", "action_confirm", [order["id"]])
        if invoice is None:
            invoice = self._invoice(order["id"])
        if invoice["state"] == "draft":
            with self.step("order.post"):
                self.call("account.move", "action_post", [invoice["id"]])
        if invoice["payment_state"] not in PAID:
            context = {"active_model": "account.move", "active_ids": [invoice["id"]]}
            with self.step("order.pay"):
                wizard = self.call(
                    "account.payment.register", "create", {}, context=context
                )
                self.call(
                    "account.payment.register",
                    "action_create_payments",
                    [wizard],
                    context=context,
                )
        return invoice["id"]

    def _invoice(self, order_id):
        context = {
            "active_model": "sale.order",
            "active_ids": [order_id],
            "active_id": order_id,
        }
        with self.step("order.invoice"):
            wizard = self.call(
                "sale.advance.payment.inv",
                "create",
                {"advance_payment_method": "delivered"},
                context=context,
            )
            self.call(
                "sale.advance.payment.inv", "create_invoices", [wizard], context=context
            )
            ids = self.call("sale.order", "read", [order_id], ["invoice_ids"])[0][
                "invoice_ids"
            ]
        return {"id": ids[0], "state": "draft", "payment_state": "not_paid"}

    # -- credit notes -----------------------------------------------------
    def refund(self, number, invoice, price, partial):
        shares = (0.5, 0.5) if partial else (1.0,)
        start = time.monotonic()
        for index, share in enumerate(shares):
            tag = f"{self.tag}-refund-{number}-{index}"
            for attempt in range(3):
                try:
                    self._credit_note(invoice, price * share, tag, resume=attempt > 0)
                    break
                except CallFailed as error:
                    if error.outcome != "killed":
                        self.stats.add("refund (flow)", error.outcome, 0)
                        return
            else:
                self.stats.add("refund (flow)", "killed", 0)
                return
        self.stats.add("refund (flow)", "ok", time.monotonic() - start)

    def _credit_note(self, invoice, unit_price, tag, resume):
        note = None
        if resume:
            with self.step("refund.read"):
                rows = self.call(
                    "account.move",
                    "search_read",
                    [("reversed_entry_id", "=", invoice), ("ref", "ilike", tag)],
                    ["state"],
                )
            note = rows[0] if rows else None
        if note is None:
            context = {"active_model": "account.move", "active_ids": [invoice]}
            with self.step("refund.create"):
                journal = self.call("account.move", "read", [invoice], ["journal_id"])[
                    0
                ]["journal_id"][0]
                wizard = self.call(
                    "account.move.reversal",
                    "create",
                    {"journal_id": journal, "reason": tag},
                    context=context,
                )
                action = self.call(
                    "account.move.reversal", "refund_moves", [wizard], context=context
                )
            note = {"id": action["res_id"], "state": "draft"}
        if note["state"] != "draft":
            return
        with self.step("refund.post"):
            lines = self.call(
                "account.move.line",
                "search_read",
                [("move_id", "=", note["id"]), ("display_type", "=", "product")],
                ["price_unit"],
            )
            changes = [
                (1, line["id"], {"price_unit": round(unit_price, 2)})
                for line in lines
                if abs(line["price_unit"] - unit_price) > 0.001
            ]
            if changes:
                self.call(
                    "account.move", "write", [note["id"]], {"invoice_line_ids": changes}
                )
            self.call("account.move", "action_post", [note["id"]])

    # -- pool events ------------------------------------------------------
    def _pick_member(self, field):
        with self.step("position"):
            rows = self.call(
                "points.member",
                "search_read",
                [("pool_id", "=", self.pool_id), (field, ">", 0.01)],
                [field],
            )
            if not rows:
                return None, None
            member = self.rng.choice(rows)["id"]
            position = self.call("points.member", "get_position", [member])
        return member, position

    def sell(self, number, share=0.25, retry=None):
        try:
            member, position = self._pick_member("points_held")
        except CallFailed:
            return None
        if member is None:
            self.stats.add("sell (flow)", "refused", 0)
            return None
        points = math.floor(position["points_free"] * share * 10_000) / 10_000
        if points <= 0:
            self.stats.add("sell (flow)", "refused", 0)
            return None
        key = f"{self.tag}-sell-{number}"
        args = ("points.member", "action_sell", [member], [points], key)
        answer = self.keyed("sell", "sell", *args)
        if answer is None:
            self.stats.add("sell (flow)", self.local.outcome, 0)
            return None
        self.stats.add("sell (flow)", "ok", 0)
        if retry if retry is not None else number % 3 == 0:
            self.resend("sell", "sell.retry", *args, answer)
        return answer

    def inject(self, number):
        key = f"{self.tag}-inject-{number}"
        args = (
            "points.pool",
            "action_inject",
            [self.pool_id],
            [25.0 + 5 * number],
            key,
        )
        answer = self.keyed("inject", "inject", *args)
        if number % 2 == 0:
            self.resend("inject", "inject.retry", *args, answer)

    def withdraw(self, number):
        try:
            member, position = self._pick_member("wallet_balance")
            if member is None or position["wallet_available"] < 0.02:
                self.sell(f"w{number}", share=0.5, retry=False)
                member, position = self._pick_member("wallet_balance")
        except CallFailed:
            return
        if member is None or position["wallet_available"] < 0.02:
            self.stats.add("withdraw (flow)", "refused", 0)
            return
        amount = math.floor(position["wallet_available"] * 50) / 100
        key = f"{self.tag}-withdraw-{number}"
        args = ("points.member", "action_request_withdrawal", [member], [amount], key)
        request = self.keyed("withdraw", "withdraw.request", *args)
        if not request:
            self.stats.add("withdraw (flow)", self.local.outcome, 0)
            return
        if number % 2 == 0:
            self.resend("withdraw", "withdraw.request.retry", *args, request)
        key = f"{self.tag}-approve-{number}"
        args = (
            "points.withdrawal",
            "action_approve",
            [request["withdrawal_id"]],
            [],
            key,
        )
        approved = self.keyed("approve", "withdraw.approve", *args)
        self.stats.add("withdraw (flow)", self.local.outcome, 0)
        if number % 2 == 1:
            self.resend("approve", "withdraw.approve.retry", *args, approved)

    def commission_jobs(self):
        for _attempt in range(2):
            try:
                with self.step("commission jobs"):
                    self.call(
                        "points.pool", "action_run_commission_jobs", [self.pool_id]
                    )
                return
            except CallFailed as error:
                if error.outcome != "killed":
                    return

    # -- phases -----------------------------------------------------------
    def run_tasks(self, tasks, kill=False):
        """Run ``tasks`` (callables) on --clients threads until done or the cap;
        ``kill``: SIGKILL a busy worker once 40% of them have started."""
        queue = list(tasks)
        self.popped, self.task_count = 0, len(queue)
        index = itertools.count()
        killer = threading.Thread(target=self.killer, daemon=True)
        if kill:
            killer.start()

        def worker():
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                position = next(index)
                if position >= len(queue):
                    return
                with self.lock:
                    self.popped += 1
                try:
                    queue[position]()
                except Exception as error:  # a bug of this script: report, go on
                    self.problem(f"script error in a task: {error!r}")

        threads = [
            threading.Thread(target=worker, daemon=True)
            for _n in range(self.args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
        self.stop.set()
        if kill:
            killer.join(30)
        self.stop.clear()
        return self.task_count - min(self.popped, self.task_count)

    def order_tasks(self, count, customers, first):
        tasks = []
        for number in range(first, first + count):
            partner = customers[number % len(customers)]
            price = self.rng.choice(PRICES)
            ref = f"{self.tag}-order-{number}"
            tasks.append(lambda r=ref, p=partner, q=price: self.order(r, p, q))
        return tasks

    def mixed_tasks(self, orders, first):
        args = self.args
        warm = [p for p in self.customers if p not in self.fresh]
        # the fresh customers' first orders come in pairs, paid at the same time
        pairs = []
        for partner in self.fresh:
            for _n in range(2):
                pairs.append(partner)
        pairs = pairs[:orders]
        others = [
            warm[self.rng.randrange(len(warm))] for _n in range(orders - len(pairs))
        ]
        tasks = self.order_tasks(len(others), others, first)
        for offset, partner in enumerate(pairs):
            ref = f"{self.tag}-order-{first + len(others) + offset}"
            price = self.rng.choice(PRICES)
            tasks.insert(
                min(len(tasks), 2 * offset),
                lambda r=ref, p=partner, q=price: self.order(r, p, q),
            )
        extra = [lambda n=n: self.sell(n) for n in range(args.sells)]
        extra += [lambda n=n: self.inject(n) for n in range(args.injections)]
        targets = list(self.invoices.values())
        self.rng.shuffle(targets)
        partial = args.refunds // 2
        for number, (invoice, price) in enumerate(targets[: args.refunds]):
            extra.append(
                lambda n=number, i=invoice, q=price: self.refund(n, i, q, n < partial)
            )
        if not args.no_plan:
            extra += [self.commission_jobs] * max(1, args.orders // 100)
        for task in extra:
            tasks.insert(self.rng.randrange(len(tasks) + 1), task)
        for number in range(args.withdrawals):  # after some sells
            low = len(tasks) // 3
            tasks.insert(
                self.rng.randrange(low, len(tasks) + 1),
                lambda n=number: self.withdraw(n),
            )
        return tasks

    def killer(self, share=0.4):
        while not self.stop.is_set():
            if self.popped >= share * self.task_count:
                break
            time.sleep(0.1)
        if self.stop.is_set():
            return
        pid = self.server.kill_busy_worker()
        if pid is None:
            self.problem("no busy worker found to kill")


# ----------------------------------------------------------------------
# database checks
# ----------------------------------------------------------------------
class Checks:
    def __init__(self, conn, pool_id):
        self.conn = conn
        self.pool_id = pool_id
        self.results = []  # (ok, text)

    def query(self, query, params=()):
        with self.conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def add(self, ok, text):
        self.results.append((bool(ok), text))

    def queue(self):
        """(unnumbered ledger lines, pending lots due, unjournalized commissions)."""
        return self.query(
            """
            SELECT (SELECT count(*) FROM points_pool_move WHERE pool_id = %(p)s
                      AND number = 0),
                   (SELECT count(*) FROM points_lot WHERE pool_id = %(p)s
                      AND state = 'pending'
                      AND settle_date <= (now() AT TIME ZONE 'utc')),
                   (SELECT count(*) FROM points_commission_line WHERE pool_id = %(p)s
                      AND accrual_move_id IS NULL)
            """,
            {"p": self.pool_id},
        )[0]

    def wait_queue(self, timeout=60.0, commissions=False):
        start = time.monotonic()
        while True:
            unnumbered, due, unposted = self.queue()
            if not (unnumbered or due or (commissions and unposted)):
                return time.monotonic() - start, None
            if time.monotonic() - start > timeout:
                return time.monotonic() - start, (unnumbered, due, unposted)
            time.sleep(0.5)

    def ledger_number(self):
        return self.query(
            "SELECT ledger_number FROM points_pool WHERE id = %s", (self.pool_id,)
        )[0][0]

    def lots_per_invoice(self):
        rows = self.query(
            """
            SELECT m.id, m.name, (SELECT count(*) FROM points_lot l
                                   WHERE l.invoice_id = m.id)
              FROM account_move m
             WHERE m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state IN ('paid', 'in_payment', 'reversed')
               AND EXISTS (SELECT 1 FROM account_move_line aml
                             JOIN sale_order_line_invoice_rel r
                               ON r.invoice_line_id = aml.id
                            WHERE aml.move_id = m.id)
            """
        )
        bad = [f"{name}: {count}" for _id, name, count in rows if count != 1]
        self.add(
            not bad and rows,
            f"each of the {len(rows)} paid invoices of sale orders has exactly one lot"
            + (f" (not: {', '.join(bad[:5])})" if bad else ""),
        )
        return len(rows)

    def numbering(self):
        count, low, high, distinct, zero = self.query(
            """
            SELECT count(*) FILTER (WHERE number > 0), min(number) FILTER (WHERE number > 0),
                   max(number), count(DISTINCT number) FILTER (WHERE number > 0),
                   count(*) FILTER (WHERE number <= 0)
              FROM points_pool_move WHERE pool_id = %s
            """,
            (self.pool_id,),
        )[0]
        counter = self.ledger_number()
        ok = zero == 0 and count == distinct == (high or 0) == counter
        ok = ok and (not count or low == 1)
        self.add(
            ok,
            f"ledger numbers 1..{high} contiguous ({count} lines, {zero} unnumbered, "
            f"pool counter {counter})",
        )

    def prices(self):
        rows = self.query(
            "SELECT number, kind, price_before, price_after FROM points_pool_move "
            "WHERE pool_id = %s AND number > 0 ORDER BY number",
            (self.pool_id,),
        )
        bad, kinds, previous = [], Counter(), None
        for number, kind, before, after in rows:
            before, after = float(before or 0), float(after or 0)
            if after < before - EPS:
                bad.append(f"#{number} {kind} {before} -> {after}")
                kinds[kind] += 1
            if previous is not None and before < previous[1] - EPS:
                bad.append(
                    f"#{number} {kind} before {before} < #{previous[0]} after {previous[1]}"
                )
                kinds[kind] += 1
            previous = (number, after)
        by_kind = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
        self.add(
            not bad,
            f"price never falls along the {len(rows)} ledger lines"
            + (f" ({len(bad)} breaks, {by_kind}: {'; '.join(bad[:3])})" if bad else ""),
        )

    def sql_reconciliation(self):
        fund, supply, wallets = self.query(
            "SELECT fund, supply, (SELECT COALESCE(sum(wallet_balance), 0) "
            "FROM points_member WHERE pool_id = p.id) FROM points_pool p WHERE id = %s",
            (self.pool_id,),
        )[0]
        l_fund, l_points, l_wallet = self.query(
            "SELECT COALESCE(sum(fund), 0), COALESCE(sum(points), 0), "
            "COALESCE(sum(wallet), 0) FROM points_pool_move WHERE pool_id = %s",
            (self.pool_id,),
        )[0]
        held = self.query(
            "SELECT COALESCE(sum(held), 0) FROM points_lot WHERE pool_id = %s",
            (self.pool_id,),
        )[0][0]
        ok = fund == l_fund and supply == l_points == held and wallets == l_wallet
        self.add(
            ok,
            f"SQL: fund {fund} = Σ ledger {l_fund}; supply {supply} = Σ ledger "
            f"{l_points} = Σ lots {held}; wallets {wallets} = Σ ledger {l_wallet}",
        )

    def members(self):
        rows = self.query(
            "SELECT partner_id, count(*) FROM points_member WHERE pool_id = %s "
            "GROUP BY partner_id HAVING count(*) > 1",
            (self.pool_id,),
        )
        self.add(not rows, f"one member per partner ({len(rows)} duplicated)")

    def keyed(self, load):
        """One booking per successful keyed call; retried keys booked once."""
        kinds = {
            "sell": "SELECT count(*) FROM points_pool_move WHERE pool_id = %s AND kind = 'sell'",
            "inject": "SELECT count(*) FROM points_pool_move WHERE pool_id = %s "
            "AND kind = 'inject'",
            "withdraw": "SELECT count(*) FROM points_withdrawal w JOIN points_member m "
            "ON m.id = w.member_id WHERE m.pool_id = %s",
            "approve": "SELECT count(*) FROM points_pool_move WHERE pool_id = %s "
            "AND kind = 'withdrawal'",
        }
        for kind, query in kinds.items():
            booked = self.query(query, (self.pool_id,))[0][0]
            ok_keys = len(load.keyed_ok[kind])
            unknown = load.unknown[kind]
            fine = ok_keys <= booked <= ok_keys + unknown
            extra = f" + {unknown} of unknown outcome" if unknown else ""
            self.add(
                fine,
                f"{kind}: {booked} booked for {ok_keys} successful keys{extra} "
                f"({load.retried[kind]} keys sent twice)",
            )
        answers = [a.get("ledger_id") for a in load.keyed_ok["sell"].values() if a]
        dupes = [ledger for ledger, n in Counter(answers).items() if n > 1]
        answers = [
            a.get("withdrawal_id") for a in load.keyed_ok["withdraw"].values() if a
        ]
        dupes += [wid for wid, n in Counter(answers).items() if n > 1]
        self.add(
            not dupes, f"distinct keys answered distinct records ({len(dupes)} shared)"
        )
        if self.query(
            "SELECT 1 FROM information_schema.columns WHERE table_name = "
            "'points_pool_move' AND column_name = 'idempotency_key'"
        ):
            rows = self.query(
                "SELECT idempotency_key, count(*) FROM points_pool_move "
                "WHERE idempotency_key LIKE %s GROUP BY 1 HAVING count(*) > 1",
                (f"%{load.tag}%",),
            )
            self.add(not rows, f"no client key on two ledger lines ({len(rows)} found)")


def rpc_reconciliation(load, checks):
    """Rows of points.pool.get_reconciliation, else of the points.pool.check wizard."""
    source = "points.pool.get_reconciliation"
    try:
        rows = load.rpc.call("points.pool", "get_reconciliation", [load.pool_id])
    except CallFailed as error:
        if "get_reconciliation" not in error.text:
            raise
        source = "points.pool.check (get_reconciliation does not exist yet)"
        check = load.rpc.call("points.pool.check", "create", {"pool_id": load.pool_id})
        rows = load.rpc.call(
            "points.pool.check.line",
            "search_read",
            [("check_id", "=", check)],
            ["label", "expected", "actual", "ok"],
        )
    bad = [row for row in rows if not row["ok"]]
    text = "; ".join(f"{r['label']}: {r['expected']} / {r['actual']}" for r in bad[:5])
    checks.add(
        rows and not bad,
        f"reconciliation ({source}): {len(rows) - len(bad)}/{len(rows)} rows ok"
        + (f" - {text}" if bad else ""),
    )


def nudge_settlement(load):
    """Run the settlement job now (after the queue did not drain on its own)."""
    cron = load.rpc.call(
        "ir.model.data",
        "search_read",
        [("module", "=", MODULE), ("name", "=", "points_pool_cron_settle")],
        ["res_id"],
    )[0]["res_id"]
    load.rpc.call("ir.cron", "method_direct_trigger", [cron])


def server_log_errors():
    """ERROR/CRITICAL lines of the server log, and their most frequent causes
    (PostgreSQL's message for a bad query, the job for a failed cron)."""
    try:
        text = SERVER_LOG.read_text(errors="replace")
    except OSError:
        return 0, []
    count = len(re.findall(r"^\S+ \S+ \d+ (?:ERROR|CRITICAL) ", text, re.M))
    causes = Counter(re.findall(r"^ERROR:\s+(.*)$", text, re.M))
    causes.update(
        f"cron {job} failed"
        for job in re.findall(
            r" ERROR \S+ odoo\.addons\.base\.models\.ir_cron: Job '(.*?)' \(\d+\)", text
        )
    )
    return count, [f"{n}x {cause[:110]}" for cause, n in causes.most_common(5)]


# ----------------------------------------------------------------------
# report
# ----------------------------------------------------------------------
def print_table(stats):
    log(
        f"{'operation':<24}{'ok':>6}{'refused':>9}{'killed':>8}{'errors':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}"
    )
    order = sorted(stats.rows, key=lambda label: (not label.endswith("(flow)"), label))
    for label in order:
        row = stats.rows[label]
        lat = row["lat"]
        p50 = f"{statistics.median(lat) * 1000:.0f}" if lat else "-"
        p95 = f"{percentile(lat, 0.95) * 1000:.0f}" if lat else "-"
        if not any(lat):  # flows timed by their steps only
            p50 = p95 = "-"
        log(
            f"{label:<24}{row['ok']:>6}{row['refused']:>9}{row['killed']:>8}"
            f"{row['error']:>8}{p50:>9}{p95:>9}"
        )


def log_figures_and_checks(figures, checks):
    """The run's figures, then one line per check."""
    for key, value in figures.items():
        log(f"{key}: {value}")
    log("checks:")
    for ok, text in checks.results:
        log(f"  {'ok  ' if ok else 'FAIL'}  {text}")


def report(load, checks, figures):
    stats = load.stats
    log("")
    print_table(stats)
    log("")
    log_figures_and_checks(figures, checks)
    for text in load.problems:
        log(f"  FAIL  {text}")
    errors = stats.total("error")
    if errors:
        log(f"client errors ({errors}):")
        for (label, text), count in stats.errors.most_common(8):
            log(f"  {count}x {label}: {text}")
    failed = sum(1 for ok, _t in checks.results if not ok) + len(load.problems)
    return failed, errors


# ----------------------------------------------------------------------
# throughput benchmark (--throughput)
# ----------------------------------------------------------------------
TPUT_SETUP_LOG = STATE / "tput-setup.log"
TPUT_WARM = 2  # untimed sells per client in each layout, before the phases
TPUT_PHASES = (("A1", "one"), ("B1", "many"), ("B2", "many"), ("A2", "one"))
RETRY_LINE = re.compile(r" [A-Z_]+, (?:\d+ tries left|maximum number of tries)")
# run by `odoo shell` (``env`` is the superuser's), one transaction, committed
TPUT_SNIPPET = r"""
import json

from odoo import Command

from odoo.addons.points_pool.tools.order_flow import sell

params = json.loads(PARAMS)
clients, amount = params["clients"], params["amount"]
companies = [env.ref("base.main_company")]
for index in range(1, clients):
    company = env["res.company"].create({"name": f"Throughput Co {index}"})
    env["account.chart.template"].try_loading(
        "generic_coa", company=company, install_demo=False
    )
    companies.append(company)
env.ref("base.user_admin").write(
    {
        "company_ids": [Command.link(company.id) for company in companies],
        "groups_id": [Command.link(env.ref("points_pool.points_pool_group_manager").id)],
    }
)
result = []
for index, company in enumerate(companies):
    cenv = env(context={"allowed_company_ids": [company.id]})
    pool = cenv["points.pool"]._get_company_pool(company)
    pool.write({"return_window_days": 0, "contribution_rate": 30.0, "exit_multiple": 3.0})
    product = cenv["product.product"].create(
        {
            "name": f"Throughput product {index}",
            "type": "service",
            "list_price": amount,
            "invoice_policy": "order",
            "taxes_id": [Command.clear()],
            "company_id": company.id,
        }
    )
    partners = cenv["res.partner"].create(
        [
            {"name": f"Throughput customer {index}-{n}", "company_id": company.id}
            for n in range(clients)
        ]
    )
    for partner in partners:
        sell(cenv, partner, [(product, amount)], company=company)
    pool._settle_due()
    cenv.invalidate_all()
    members = cenv["points.member"].search([("pool_id", "=", pool.id)])
    by_partner = {member.partner_id.id: member for member in members}
    result.append(
        {
            "company": company.id,
            "name": company.name,
            "pool": pool.id,
            "members": [by_partner[partner.id].id for partner in partners],
            "free": [by_partner[partner.id].points_free for partner in partners],
        }
    )
env.cr.commit()
print("TPUT_SETUP " + json.dumps(result), flush=True)
"""


def tput_amount(args):
    """Order amount: 1000 gives the last of 8 customers about 89 points."""
    return 1000 * max(1, math.ceil((2 * args.sells_per_client + TPUT_WARM) / 80))


def tput_setup(args):
    """Companies, pools, products, customers with settled points (odoo shell).

    :return: ``(pools, seconds)``; pools: one dict per company, the main first
        (``company``, ``name``, ``pool``, ``members``, ``free``)
    """
    params = {"clients": args.clients, "amount": tput_amount(args)}
    snippet = f"PARAMS = {json.dumps(json.dumps(params))}\n{TPUT_SNIPPET}"
    cmd = ["odoo", "shell", "-c", str(args.conf), "-d", args.db, "--log-level=warn"]
    start = time.monotonic()
    result = subprocess.run(
        cmd, cwd=ROOT, input=snippet, capture_output=True, text=True, check=False
    )
    TPUT_SETUP_LOG.write_text(result.stdout + result.stderr)
    marker = "TPUT_SETUP "
    line = next((t for t in result.stdout.splitlines() if t.startswith(marker)), None)
    if result.returncode or line is None:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise SetupError(
            f"odoo shell set-up failed (exit {result.returncode}), see "
            f"{TPUT_SETUP_LOG.relative_to(ROOT)}: {' | '.join(tail)}"
        )
    pools = json.loads(line[len(marker) :])
    needs = Counter()
    for index in range(args.clients):
        for pool_index in (0, index):  # one pool, then its own company's pool
            needs[pool_index, index] += 2 * args.sells_per_client + TPUT_WARM
    short = [
        f"{pools[p]['name']} member {m}: {pools[p]['free'][m]} free < {need}"
        for (p, m), need in needs.items()
        if pools[p]["free"][m] < need
    ]
    if short:
        raise SetupError(f"not enough points for the sells: {'; '.join(short[:4])}")
    return pools, time.monotonic() - start


class Throughput:
    """Phases of --throughput: each client sells 1 point ``count`` times."""

    def __init__(self, args, rpc, conn, pools):
        self.args = args
        self.rpc = rpc
        self.conn = conn
        self.pools = pools
        self.failures = Counter()  # (phase, first line of the error) -> count

    def plan(self, layout):
        """(member, company) of each client: all in the main pool, or client i in
        company i's pool."""
        n = self.args.clients
        if layout == "one":
            return [
                (self.pools[0]["members"][i], self.pools[0]["company"])
                for i in range(n)
            ]
        return [
            (self.pools[i]["members"][i], self.pools[i]["company"]) for i in range(n)
        ]

    def query(self, query, params=()):
        with self.conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def ledger(self):
        """(ledger lines numbered, sells, exits) of all the pools."""
        ids = [pool["pool"] for pool in self.pools]
        return self.query(
            "SELECT (SELECT COALESCE(sum(ledger_number), 0) FROM points_pool "
            "WHERE id = ANY(%(ids)s)), count(*) FILTER (WHERE kind = 'sell'), "
            "count(*) FILTER (WHERE kind = 'exit') FROM points_pool_move "
            "WHERE pool_id = ANY(%(ids)s) AND number > 0",
            {"ids": ids},
        )[0]

    def sells(self, label, layout, count):
        """Every client sells 1 point ``count`` times, all started together.

        :return: ``{"ok", "failed", "lat", "first", "last"}``
        """
        plan = self.plan(layout)
        barrier = threading.Barrier(len(plan))
        lock = threading.Lock()
        out = {"ok": 0, "failed": 0, "lat": [], "first": None, "last": None}

        def client(index, member, company):
            context = {"allowed_company_ids": [company]}
            barrier.wait(60)
            for number in range(count):
                key = f"tput-{label}-{index}-{number}-{uuid.uuid4().hex}"
                start = time.monotonic()
                error = None
                try:
                    self.rpc.call(
                        "points.member",
                        "action_sell",
                        [member],
                        1,
                        idempotency_key=key,
                        context=context,
                    )
                except CallFailed as failure:
                    error = failure
                end = time.monotonic()
                with lock:
                    out["first"] = min(out["first"] or start, start)
                    out["last"] = max(out["last"] or end, end)
                    if error is None:
                        out["ok"] += 1
                        out["lat"].append(end - start)
                        continue
                    out["failed"] += 1
                    lines = error.text.strip().splitlines() or [error.kind]
                    self.failures[label, f"{error.kind}: {lines[0][:160]}"] += 1

        threads = [
            threading.Thread(target=client, args=(i, *pair), daemon=True)
            for i, pair in enumerate(plan)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
        return out

    def phase(self, label, layout):
        """One timed phase: sells, ledger lines, elapsed, latencies, log lines."""
        lines_before = self.ledger()[0]
        offset = log_size()
        out = self.sells(label, layout, self.args.sells_per_client)
        end_offset = log_size()
        out["events"] = self.ledger()[0] - lines_before
        out["elapsed"] = (out["last"] - out["first"]) if out["first"] else 0.0
        out["serialize"], out["retries"] = log_concurrency(offset, end_offset)
        out["label"], out["layout"] = label, layout
        return out

    def unjournalized(self):
        """Numbered ledger lines that move money and have no entry yet."""
        return self.query(
            "SELECT count(*) FROM points_pool_move WHERE pool_id = ANY(%s) "
            "AND number > 0 AND account_move_id IS NULL "
            "AND kind NOT IN ('release', 'commission') "
            "AND (COALESCE(fund, 0) != 0 OR COALESCE(reserve, 0) != 0 "
            "     OR COALESCE(pending, 0) != 0 OR COALESCE(credit, 0) != 0 "
            "     OR COALESCE(frozen, 0) != 0 "
            "     OR (kind != 'withdrawal' AND COALESCE(wallet, 0) != 0))",
            ([pool["pool"] for pool in self.pools],),
        )[0][0]

    def wait_journal(self, timeout=90.0):
        start = time.monotonic()
        while True:
            left = self.unjournalized()
            if not left or time.monotonic() - start > timeout:
                return time.monotonic() - start, left
            time.sleep(1)

    def reconcile(self, checks):
        for pool in self.pools:
            context = {"allowed_company_ids": [pool["company"]]}
            try:
                rows = self.rpc.call(
                    "points.pool", "get_reconciliation", [pool["pool"]], context=context
                )
            except CallFailed as error:
                checks.add(False, f"{pool['name']}: get_reconciliation failed: {error}")
                continue
            bad = [row for row in rows if not row["ok"]]
            text = "; ".join(
                f"{r['label']}: {r['expected']} / {r['actual']}" for r in bad[:4]
            )
            checks.add(
                rows and not bad,
                f"{pool['name']} (pool {pool['pool']}): reconciliation "
                f"{len(rows) - len(bad)}/{len(rows)} rows ok"
                + (f" - {text}" if bad else ""),
            )


def log_size():
    try:
        return SERVER_LOG.stat().st_size
    except OSError:
        return 0


def log_concurrency(start, end):
    """("could not serialize" lines, concurrency retries) of the server log
    between two byte offsets."""
    try:
        with open(SERVER_LOG, "rb") as handle:
            handle.seek(start)
            text = handle.read(max(0, end - start)).decode(errors="replace")
    except OSError:
        return 0, 0
    return text.count("could not serialize"), len(RETRY_LINE.findall(text))


def tput_sum(rows, layout):
    picked = [row for row in rows if row["layout"] == layout]
    total = {
        key: sum(row[key] for row in picked)
        for key in ("ok", "failed", "events", "elapsed", "serialize", "retries")
    }
    total["lat"] = [lat for row in picked for lat in row["lat"]]
    total["label"] = "+".join(row["label"] for row in picked)
    total["layout"] = layout
    return total


def tput_rate(row):
    return row["events"] / row["elapsed"] if row["elapsed"] else 0.0


def tput_table(rows, names):
    log(
        f"{'phase':<8}{'layout':<13}{'sells':>6}{'failed':>8}{'ledger':>8}"
        f"{'elapsed s':>11}{'events/s':>10}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'serial.':>9}{'retries':>9}"
    )
    for row in rows:
        lat = row["lat"]
        p50 = f"{statistics.median(lat) * 1000:.0f}" if lat else "-"
        p95 = f"{percentile(lat, 0.95) * 1000:.0f}" if lat else "-"
        log(
            f"{row['label']:<8}{names[row['layout']]:<13}{row['ok']:>6}"
            f"{row['failed']:>8}{row['events']:>8}{row['elapsed']:>11.2f}"
            f"{tput_rate(row):>10.1f}{p50:>8}{p95:>8}{row['serialize']:>9}"
            f"{row['retries']:>9}"
        )


def tput_warm_up(bench, checks):
    for layout in ("one", "many"):
        out = bench.sells(f"warm-{layout}", layout, TPUT_WARM)
        checks.add(
            not out["failed"],
            f"warm-up ({layout} pool{'s' if layout == 'many' else ''}, not timed): "
            f"{out['ok']} sells ok, {out['failed']} failed",
        )


def tput_report(args, rows, checks, bench, figures):
    n = args.clients
    many = "eight pools" if n == 8 else f"{n} pools"
    names = {"one": "one pool", "many": many}
    log("")
    log(
        f"throughput: {n} clients x {args.sells_per_client} sells of 1 point per phase, "
        f"{WORKERS} HTTP workers; ledger = lines numbered (sells + exits), events/s = "
        "ledger / elapsed (first call to last answer)"
    )
    tput_table(rows, names)
    one, spread = tput_sum(rows, "one"), tput_sum(rows, "many")
    log("sums:")
    tput_table([one, spread], names)
    ratio = tput_rate(one) / tput_rate(spread) if tput_rate(spread) else 0.0
    log("")
    log_figures_and_checks(figures, checks)
    errors = sum(bench.failures.values())
    if errors:
        log(f"failed calls ({errors}):")
        for (label, text), count in bench.failures.most_common(8):
            log(f"  {count}x {label}: {text}")
    log(
        f"throughput ratio (one pool / {many}): {ratio:.2f} "
        f"(goal >= 0.90: {'met' if ratio >= 0.9 else 'NOT met'})"
    )
    failed = sum(1 for ok, _t in checks.results if not ok)
    return failed, errors


def run_throughput(args, server, pg, figures):
    started = time.monotonic()
    n = args.clients
    log(
        f"throughput: database {args.db}: dropping and installing {MODULE} (no demo)..."
    )
    drop_database(pg, args.db)
    figures["install"] = f"{create_database(args):.1f} s"
    log(
        f"throughput: set-up in odoo shell: {n - 1} more companies, {n} customers "
        f"each with a paid order of {tput_amount(args)}..."
    )
    pools, seconds = tput_setup(args)
    figures["set-up"] = (
        f"{seconds:.1f} s ({n - 1} companies with a chart, {n * n} orders paid and "
        f"settled; log {TPUT_SETUP_LOG.relative_to(ROOT)})"
    )
    log(f"throughput: set-up done in {seconds:.1f} s")
    server.start()
    ready = server.wait_ready()
    log(
        f"throughput: odoo on 127.0.0.1:{server.port} ({WORKERS} workers, 1 cron, "
        f"gevent {args.gevent_port}) ready in {ready:.1f} s; log "
        f"{SERVER_LOG.relative_to(ROOT)}"
    )
    rpc = Rpc(server.port, args.db)
    rpc.login()
    conn = pg_connect(pg, args.db)
    bench = Throughput(args, rpc, conn, pools)
    checks = Checks(conn, pools[0]["pool"])
    try:
        phase = time.monotonic()
        tput_warm_up(bench, checks)
        figures["warm-up"] = f"{time.monotonic() - phase:.1f} s"
        rows = []
        phase = time.monotonic()
        for label, layout in TPUT_PHASES:
            time.sleep(2)  # let the workers go idle between phases
            row = bench.phase(label, layout)
            rows.append(row)
            log(
                f"throughput: phase {label} ({layout}): {row['ok']} sells, "
                f"{row['failed']} failed, {row['elapsed']:.2f} s"
            )
        figures["phases"] = f"{time.monotonic() - phase:.1f} s (A1 B1 B2 A2)"
        waited, left = bench.wait_journal()
        checks.add(
            not left,
            f"every numbered ledger line that moves money has its entry "
            f"({left} left after {waited:.1f} s)",
        )
        bench.reconcile(checks)
        lines, sells, exits = bench.ledger()
        figures["ledger"] = (
            f"{lines} lines numbered in all, {sells} sells, {exits} exits"
        )
    finally:
        conn.close()
    count, samples = server_log_errors()
    figures["server log"] = f"{count} ERROR/CRITICAL lines" + (
        "".join(f"\n  {sample}" for sample in samples)
    )
    figures["total"] = f"{time.monotonic() - started:.0f} s"
    return tput_report(args, rows, checks, bench, figures)


# ----------------------------------------------------------------------
# main
# ----------------------------------------------------------------------
def run(args, server, pg, figures):
    started = time.monotonic()
    log(f"load: database {args.db}: dropping and installing {MODULE} (no demo)...")
    drop_database(pg, args.db)
    figures["install"] = f"{create_database(args):.1f} s"
    server.start()
    ready = server.wait_ready()
    log(
        f"load: odoo on 127.0.0.1:{server.port} ({WORKERS} workers, 1 cron, gevent "
        f"{args.gevent_port}) ready in {ready:.1f} s; log {SERVER_LOG.relative_to(ROOT)}"
    )
    rpc = Rpc(server.port, args.db)
    load = Load(args, server, rpc)
    load.setup()
    load.seed()
    conn = pg_connect(pg, args.db)
    checks = Checks(conn, load.pool_id)
    load.deadline = time.monotonic() + args.duration

    warm = [p for p in load.customers if p not in load.fresh]
    warm_count = min(args.orders, max(2 * args.clients, args.orders // 4, args.refunds))
    phase = time.monotonic()
    left = load.run_tasks(load.order_tasks(warm_count, warm, 0))
    warm_time = time.monotonic() - phase
    settle, stuck = checks.wait_queue()
    if stuck:
        load.problem(f"warm-up queue not drained after {settle:.0f} s: {stuck}")
        nudge_settlement(load)
        checks.wait_queue(30)
    bound, plan = load.bind_and_plan()
    figures["warm-up"] = (
        f"{warm_count - left} orders in {warm_time:.1f} s, settled {settle:.1f} s later; "
        f"{bound} members bound" + ("" if plan is None else ", plan: direct 5%")
    )
    log(f"load: warm-up: {figures['warm-up']}")

    tasks = load.mixed_tasks(args.orders - warm_count, warm_count)
    log(
        f"load: mixed phase: {args.orders - warm_count} orders, {args.sells} sells, "
        f"{args.injections} injections, {args.withdrawals} withdrawals, {args.refunds} "
        f"refunds, {args.clients} clients" + ("" if args.no_kill else ", 1 worker kill")
    )
    number_before = checks.ledger_number()
    phase = time.monotonic()
    left = load.run_tasks(tasks, kill=not args.no_kill)
    mixed = time.monotonic() - phase
    number_after = checks.ledger_number()
    if left:
        figures["duration cap"] = f"reached: {left} of {len(tasks)} mixed tasks not run"
    events = number_after - number_before
    figures["mixed phase"] = (
        f"{mixed:.1f} s, {events} ledger lines numbered: {events / mixed:.1f} pool "
        "events/s"
    )
    if server.killed:
        figures["worker kill"] = (
            f"pid {server.killed} at {server.kill_time - phase:.1f} s into the mixed "
            f"phase, {load.stats.total('killed')} calls killed in flight, "
            + ("respawned" if server.respawned() else "NOT respawned")
        )
    elif not args.no_kill:
        figures["worker kill"] = "none (no busy worker found)"

    drain, stuck = checks.wait_queue()
    if stuck:
        load.problem(
            f"queue not drained after {drain:.0f} s (unnumbered, due, -): {stuck}"
        )
        nudge_settlement(load)
        checks.wait_queue(30)
    if not args.no_plan:
        load.commission_jobs()
        _seconds, stuck = checks.wait_queue(30, commissions=True)
        if stuck:
            load.problem(f"commission queue not drained: {stuck}")
    figures["drain"] = f"{drain:.1f} s"
    paid = checks.lots_per_invoice()
    completed = load.completed
    checks.add(
        paid == completed,
        f"{completed} orders completed by the clients, {paid} paid in the DB",
    )
    checks.numbering()
    checks.prices()
    checks.members()
    rpc_reconciliation(load, checks)
    checks.sql_reconciliation()
    checks.keyed(load)
    conn.close()
    count, samples = server_log_errors()
    figures["server log"] = f"{count} ERROR/CRITICAL lines" + (
        "".join(f"\n  {sample}" for sample in samples)
    )
    figures["total"] = f"{time.monotonic() - started:.0f} s"
    return report(load, checks, figures)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl-C and SIGTERM end the run through the ``finally`` that stops the server
    # (also when started in the background, where SIGINT is inherited as ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    args.port = free_port(args.port)
    args.gevent_port = free_port(args.gevent_port, avoid=(args.port,))
    pg = prepare_cluster(args)
    server = OdooServer(args)
    figures = {}
    status = 0
    name = "throughput benchmark" if args.throughput else "load test"
    try:
        if args.throughput:
            failed, errors = run_throughput(args, server, pg, figures)
        else:
            failed, errors = run(args, server, pg, figures)
        status = 1 if failed or errors else 0
        verdict = "PASSED" if not status else "FAILED"
        capped = figures.get("duration cap")
        log(
            f"{name} {verdict}: {failed} failed checks, {errors} "
            + ("failed calls" if args.throughput else "client errors")
            + (f" (duration cap {capped})" if capped else "")
        )
    except (SetupError, CallFailed, subprocess.CalledProcessError) as error:
        log(f"{name} FAILED during set-up: {error}")
        status = 2
    except KeyboardInterrupt:
        log(f"{name} interrupted")
        status = 130
    finally:
        server.stop()
        if args.drop:
            try:
                drop_database(pg, args.db)
            except psycopg2.Error as error:
                log(f"could not drop {args.db}: {error}")
    return status


if __name__ == "__main__":
    sys.exit(main())
