"""The examples in the pure core's docstrings run as tests (Odoo's loader
ignores ``load_tests``, so a test case runs them through :mod:`doctest`)."""

import doctest

from odoo.tests import BaseCase, tagged

from ..core import (
    commission,
    compliance,
    credit,
    ledger,
    money,
    order,
    pool,
    referral,
    simulator,
)

MODULES = (
    commission,
    compliance,
    credit,
    ledger,
    money,
    order,
    pool,
    referral,
    simulator,
)


@tagged("post_install", "-at_install")
class TestCoreDoctests(BaseCase):
    def test_docstring_examples(self):
        attempted = 0
        for module in MODULES:
            with self.subTest(module=module.__name__):
                result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
                self.assertEqual(result.failed, 0, f"{module.__name__}: see the log")
                attempted += result.attempted
        # core/referral.py alone has five examples: they must have run
        self.assertGreaterEqual(attempted, 5)
