"""HTTP helpers of the benchmark's part (f) (and of tests/load.py): a multi-worker Odoo server on
localhost and a few concurrent client threads timing GETs.

No Odoo import here: the server is a subprocess (``odoo -c CONF -d DB
--workers N``), as in tests/load.py, and the clients use ``requests``.
"""

import math
import queue
import random
import socket
import subprocess
import threading
import time
from http.cookiejar import DefaultCookiePolicy

import requests

#: the ports part (f) may use (HTTP and the prefork server's gevent port)
PORTS = range(8191, 8196)


def percentile(values, share):
    """Nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


def port_free(port):
    """Nobody listens on ``port`` (TIME_WAIT sockets do not count: Odoo reuses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count, ports=PORTS):
    """``count`` ports of ``ports`` nobody listens on (SystemExit if too few)."""
    found = [port for port in ports if port_free(port)][:count]
    if len(found) < count:
        raise SystemExit(
            f"need {count} free ports in {ports.start}-{ports.stop - 1}, got {found}"
        )
    return found


class OdooServer:
    """``odoo`` in prefork mode (``workers`` HTTP workers, no cron) on
    127.0.0.1; its own process group, stopped by :meth:`stop`."""

    def __init__(self, config, database, logfile, workers=2):
        self.config, self.database = config, database
        self.logfile, self.workers = logfile, workers
        self.port, self.gevent_port = free_ports(2)
        self.proc = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=180):
        """Start the server and wait for ``/web/health``; the seconds it took."""
        cmd = [
            "odoo",
            "-c",
            str(self.config),
            "-d",
            self.database,
            "--db-filter",
            f"^{self.database}$",
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(self.port),
            "--gevent-port",
            str(self.gevent_port),
            "--workers",
            str(self.workers),
            "--max-cron-threads",
            "0",
            "--limit-time-real",
            "600",
            "--log-level",
            "warn",
            "--logfile",
            str(self.logfile),
        ]
        start = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"odoo exited with code {self.proc.returncode} (see {self.logfile})"
                )
            try:
                if requests.get(f"{self.base}/web/health", timeout=5).ok:
                    return time.monotonic() - start
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"odoo did not answer on {self.base} within {timeout} s")

    def stop(self):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # the master stops its workers
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_exc):
        self.stop()


def new_session():
    """A client that keeps no cookie: every GET is a first visit."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def get(session, url, check=None):
    """Seconds of one GET (body read); raises AssertionError on a bad answer."""
    start = time.perf_counter()
    response = session.get(url, timeout=60, allow_redirects=False)
    body = response.content
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise AssertionError(f"GET {url}: HTTP {response.status_code}")
    if check is not None:
        check(body)
    return seconds


def timed_gets(base, targets, count, clients, seed=1):
    """GET each of ``targets`` (``{label: (path, check)}``) ``count`` times,
    in a seeded shuffled order shared by ``clients`` threads.

    :return: ``({label: [seconds]}, errors, wall seconds)``
    """
    work = [label for label in targets for _i in range(count)]
    random.Random(seed).shuffle(work)
    jobs = queue.SimpleQueue()
    for label in work:
        jobs.put(label)
    times = {label: [] for label in targets}
    errors = []
    lock = threading.Lock()

    def client():
        session = new_session()
        while True:
            try:
                label = jobs.get_nowait()
            except queue.Empty:
                return
            path, check = targets[label]
            try:
                seconds = get(session, base + path, check)
            except (AssertionError, requests.RequestException) as error:
                with lock:
                    errors.append(f"{label}: {error}")
                continue
            with lock:
                times[label].append(seconds)

    threads = [threading.Thread(target=client) for _i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors, time.perf_counter() - start
