from . import test_rule_kind
