from . import kind, ledger_kind, models
