# shellcheck shell=bash
# Shared helpers for data/serve.sh and tests/run.sh (source it; callers set -euo pipefail).
# All state (PostgreSQL cluster, generated odoo.conf, filestore, logs) lives in .state/.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.state"
PP_CONF="$STATE/odoo.conf"
PP_PG="$STATE/pg"                       # data in $PP_PG/data, socket in $PP_PG/run, log $PP_PG/log
export PGHOST="$PP_PG/run" PGPORT="${PP_PGPORT:-54329}" PGUSER=odoo
ODOO_SRC_URL=https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz

pp_die() { echo "error: $*" >&2; exit 1; }
pp_is_root() { [[ $EUID -eq 0 ]]; }
pp_can_apt() { pp_is_root && command -v apt-get >/dev/null; }
pp_apt_install() {  # pp_apt_install PACKAGE...
  echo "Installing Debian package(s) $* ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}

# --- Odoo 18 + requirements.txt -------------------------------------------------------
pp_has_odoo() {
  python3 -c 'import odoo, odoo.release; assert odoo.release.version_info[0] == 18' 2>/dev/null
}

pp_install_odoo() {  # standard install from Odoo's source distribution; returns non-zero on failure
  local tgz="$STATE/odoo_18.0.latest.tar.gz" src="$STATE/odoo-src"
  echo "Installing Odoo 18.0 from $ODOO_SRC_URL ..." >&2
  mkdir -p "$STATE" &&
    python3 -c 'import sys, urllib.request as u; u.urlretrieve(sys.argv[1], sys.argv[2])' \
      "$ODOO_SRC_URL" "$tgz" 2>/dev/null &&
    rm -rf "$src" && mkdir -p "$src" && tar -xzf "$tgz" -C "$src" --strip-components=1 &&
    python3 - "$src/requirements.txt" >"$STATE/odoo-requirements.txt" <<'EOF' &&
# Odoo's pins whose marker holds for Python 3.12 (those have wheels); psycopg2 -> psycopg2-binary
import sys
from pip._vendor.packaging.requirements import Requirement
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"python_version": "3.12"}):
            req.marker = None
            if req.name.lower() == "psycopg2":
                req.name = "psycopg2-binary"
            print(req)
EOF
    python3 -m pip install -r "$STATE/odoo-requirements.txt" >&2 &&
    python3 -m pip install --no-deps -e "$src" >&2 &&
    pp_has_odoo
}

pp_require_odoo() {
  if ! pp_has_odoo; then
    if [[ ${PP_INSTALL_ODOO:-} == 1 || -t 0 ]] && pp_install_odoo; then :; else
      pp_die "Odoo 18.0 is not installed for python3: install it from Odoo's source" \
        "distribution ($ODOO_SRC_URL: pip install -r requirements.txt && pip install -e .), then re-run"
    fi
  fi
  # the project's own Python deps (requirements.txt); psycopg2 counts for psycopg2-binary
  local missing
  missing=$(python3 - "$ROOT/requirements.txt" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version
from pip._vendor.packaging.requirements import Requirement
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name = Requirement(line).name
    alts = [name] + (["psycopg2"] if name == "psycopg2-binary" else [])
    found = False
    for alt in alts:
        try:
            version(alt)
            found = True
        except PackageNotFoundError:
            pass
    if not found:
        print(line)
EOF
  )
  if [[ -n $missing ]]; then
    mapfile -t missing <<<"$missing"
    echo "Installing missing Python packages: ${missing[*]} ..." >&2
    python3 -m pip install -q "${missing[@]}" >&2 ||
      pp_die "missing Python packages (${missing[*]}): run python3 -m pip install -r requirements.txt, then re-run"
  fi
}

# --- PostgreSQL server binaries ---------------------------------------------------------
pp_find_pg() {
  local d
  PGBIN=
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    [[ -x $d/initdb && -x $d/pg_ctl ]] && { PGBIN=$d; return 0; }
  done
  command -v initdb >/dev/null && command -v pg_ctl >/dev/null &&
    PGBIN=$(dirname "$(command -v initdb)")
}

pp_require_pg() {
  if ! pp_find_pg && ! { pp_can_apt && pp_apt_install postgresql && pp_find_pg; }; then
    pp_die "PostgreSQL server (initdb, pg_ctl) not found: install the Debian package postgresql" \
      "(apt-get install postgresql), then re-run"
  fi
  export PATH="$PGBIN:$PATH"
}

pp_require_chromium() {  # Odoo's tours need chrome/chromium on PATH
  local b
  for b in google-chrome chromium chromium-browser google-chrome-stable; do
    command -v "$b" >/dev/null && return 0
  done
  if pp_can_apt && pp_apt_install chromium && command -v chromium >/dev/null; then return 0; fi
  pp_die "chromium not found (needed by the tour tests): install the Debian package chromium" \
    "(apt-get install chromium), then re-run"
}

# --- private PostgreSQL cluster ---------------------------------------------------------
PP_PG_AS=()  # command prefix to run PostgreSQL tools as the cluster owner (empty: current user)

pp_pg() { (cd "$PP_PG" && "${PP_PG_AS[@]}" "$@"); }

pp_pg_alive() {  # the postmaster of postmaster.pid is alive and is ours (not a reused pid)
  local pid
  pid=$(head -n1 "$PP_PG/data/postmaster.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$PP_PG/data"
}

pp_start_cluster() {
  mkdir -p "$PP_PG/run"
  touch "$PP_PG/log"
  if pp_is_root; then  # PostgreSQL refuses to run as root: use a system user
    local u=postgres d="$PP_PG"
    id -u "$u" >/dev/null 2>&1 || { u=pointspool; id -u "$u" >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin "$u"; }
    chown -R "$u:" "$PP_PG"
    while [[ $d != / ]]; do  # let it traverse the path down to .state/pg
      d=$(dirname "$d")
      runuser -u "$u" -- test -x "$d" ||
        { echo "note: chmod o+x $d (so that $u can reach $PP_PG)" >&2; chmod o+x "$d"; }
    done
    PP_PG_AS=(runuser -u "$u" --)
  fi
  if [[ ! -s $PP_PG/data/PG_VERSION ]]; then
    rm -rf "$PP_PG/data"
    pp_pg initdb -D "$PP_PG/data" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >>"$PP_PG/log" 2>&1 ||
      pp_die "initdb failed, see $PP_PG/log"
  fi
  if pp_pg_alive && pg_isready -q; then return 0; fi
  if pp_pg_alive; then  # running, but not where we expect it (e.g. PP_PGPORT changed)
    pp_pg pg_ctl -D "$PP_PG/data" -m fast -w stop >>"$PP_PG/log" 2>&1 || true
  fi
  rm -f "$PP_PG/data/postmaster.pid" "$PP_PG"/run/.s.PGSQL.*  # stale after a crash/reboot
  pp_pg pg_ctl -D "$PP_PG/data" -l "$PP_PG/log" -w -t 60 start \
    -o "-c listen_addresses='' -k '$PP_PG/run' -p $PGPORT -c fsync=off" >/dev/null ||
    pp_die "could not start PostgreSQL, see $PP_PG/log"
}

# --- .state/odoo.conf from the odoo.conf template ----------------------------------------
pp_write_conf() {  # extra addons dirs (comma/colon separated) may be given in PP_EXTRA_ADDONS
  mkdir -p "$STATE/data"
  python3 - "$ROOT" "$PP_CONF" "$PGHOST" "$PGPORT" "$PGBIN" "${PP_EXTRA_ADDONS:-}" <<'EOF'
import configparser, os, re, sys
import odoo
root, conf, host, port, pgbin, extra = sys.argv[1:]
pkg = os.path.dirname(os.path.abspath(odoo.__file__))
paths = [os.path.join(root, "addons")]
paths += [os.path.abspath(p) for p in re.split("[,:]", extra) if p]
paths += [p for p in (os.path.join(os.path.dirname(pkg), "addons"), os.path.join(pkg, "addons"))
          if os.path.isdir(p)]
cp = configparser.ConfigParser(interpolation=None)
cp.read(os.path.join(root, "odoo.conf"))
# the master password: never a fixed one; PP_MASTER_PASSWORD, else one random per checkout
secret = os.path.join(os.path.dirname(conf), "master_password")
master = os.environ.get("PP_MASTER_PASSWORD")
if not master:
    if not os.path.exists(secret):
        import secrets
        with os.fdopen(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(secrets.token_urlsafe(24))
    master = open(secret).read().strip()
cp["options"].update(addons_path=",".join(paths), db_host=host, db_port=port,
                     data_dir=os.path.join(os.path.dirname(conf), "data"), pg_path=pgbin,
                     admin_passwd=master)
with os.fdopen(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    cp.write(f)
os.chmod(conf, 0o600)
EOF
}
