"""The examples in the pure core's docstrings run as tests (Odoo's loader
ignores ``load_tests``, so a test case runs them through :mod:`doctest`)."""

import doctest
import importlib
import pkgutil

from odoo.tests import BaseCase, tagged

from .. import core

#: every module of the pure core, so a new one's examples run without an edit here
MODULES = tuple(
    importlib.import_module(f"{core.__name__}.{info.name}")
    for info in pkgutil.iter_modules(core.__path__)
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
        self.assertIn(
            "ledger", {module.__name__.rsplit(".", 1)[1] for module in MODULES}
        )
