#!/usr/bin/env bash
# Lint: ruff (check + format --check) on addons/ tests/ data/, pylint + pylint_odoo on each addon.
# Configs: tests/ruff.toml, tests/pylintrc. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
ruff check --config tests/ruff.toml addons tests data || status=1
ruff format --check --config tests/ruff.toml addons tests data || status=1
modules=(addons/*/__manifest__.py)
pylint --rcfile tests/pylintrc "${modules[@]%/__manifest__.py}" || status=1
exit $status
