#!/usr/bin/env bash
# Run the product: private PostgreSQL cluster + Odoo 18 with points_pool (demo data) on
# http://localhost:8069. Re-running reuses the cluster and the database.
# Env: PP_DB (database, default points_pool), PP_PGPORT; extra args go to odoo.
set -euo pipefail
# shellcheck source=data/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DB="${PP_DB:-points_pool}"
MODULES="${PP_MODULES:-points_pool,pos_points_pool}"
MODULE="${MODULES%%,*}"

pp_require_odoo
pp_require_pg
pp_start_cluster
pp_write_conf

module_state() {
  psql -d "$DB" -Atc "select state from ir_module_module where name = '$MODULE'" 2>/dev/null || true
}
if [[ $(module_state) != installed ]]; then
  echo "Creating database $DB with $MODULES and demo data ..."
  odoo -c "$PP_CONF" -d "$DB" -i "$MODULES" --stop-after-init || true
  [[ $(module_state) == installed ]] ||
    pp_die "installing $MODULE into database $DB failed (see the log above)"
fi

port=$(sed -nE 's/^http_port *= *([0-9]+).*/\1/p' "$PP_CONF")
echo
echo "Points Pool: http://localhost:$port  (login: admin, password: admin; Ctrl-C to stop)"
echo
cd "$ROOT"
exec odoo -c "$PP_CONF" -d "$DB" --db-filter "^$DB\$" "$@"
