from . import test_ledger_kind, test_rule_kind
