"""The pool's accounts and journals come from chart-template data, once
(``models/account_chart_template.py``)."""

from odoo.tests import TransactionCase, tagged

from ..models.account_chart_template import (
    POOL_ACCOUNTING_FIELDS,
    POOL_ACCOUNTS,
    POOL_JOURNALS,
)


@tagged("post_install", "-at_install")
class TestPoolChartTemplate(TransactionCase):
    def _codes_count(self, company):
        """{code: number of records with it} for the pool's accounts and journals."""
        Account = self.env["account.account"].with_company(company)
        Journal = self.env["account.journal"].with_company(company)
        counts = {}
        for _field, _key, code, *_rest in POOL_ACCOUNTS:
            counts[code] = Account.search_count(
                [*Account._check_company_domain(company), ("code", "=", code)]
            )
        for _field, _key, code in POOL_JOURNALS:
            counts[code] = Journal.search_count(
                [*Journal._check_company_domain(company), ("code", "=", code)]
            )
        return counts

    def _assert_wired(self, pool):
        pool = pool.with_company(pool.company_id)  # account codes are per company
        ChartTemplate = self.env["account.chart.template"].with_company(pool.company_id)
        for field, key in POOL_ACCOUNTING_FIELDS.items():
            self.assertTrue(pool[field], field)
            self.assertEqual(pool[field], ChartTemplate.ref(key), field)
        self.assertEqual(pool.journal_id.code, "PPOOL")
        self.assertEqual(pool.commission_journal_id.code, "PCOMM")
        self.assertEqual(pool.wallet_account_id.code, "291400")
        self.assertTrue(pool.wallet_account_id.reconcile)
        self.assertEqual(pool.custody_account_id.account_type, "asset_current")

    def test_chart_load_makes_pool_and_accounts(self):
        """A company that gets a chart gets its pool wired to accounts the chart
        load itself created, each code once."""
        company = self.env["res.company"].create({"name": "PP chart co"})
        Pool = self.env["points.pool"].with_context(active_test=False)
        self.assertFalse(Pool.search([("company_id", "=", company.id)]))
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        pool = Pool.search([("company_id", "=", company.id)])
        self.assertEqual(len(pool), 1)
        self._assert_wired(pool)
        self.assertEqual(set(self._codes_count(company).values()), {1})

    def test_pool_before_chart_then_chart(self):
        """A company without a chart gets the same accounts from the same data
        on first use; a chart loaded later (Odoo replaces a new company's
        accounts then) leaves one record per code, and the pool on them."""
        company = self.env["res.company"].create({"name": "PP no-chart co"})
        pool = self.env["points.pool"]._get_company_pool(company)
        self._assert_wired(pool)
        self.assertEqual(set(self._codes_count(company).values()), {1})
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company, install_demo=False
        )
        pool.invalidate_recordset()
        self._assert_wired(pool)
        self.assertEqual(set(self._codes_count(company).values()), {1})
        self.assertEqual(
            self.env["points.pool"].search_count([("company_id", "=", company.id)]), 1
        )

    def test_existing_account_is_adopted(self):
        """An account made before with one of the pool's codes (an older version
        of the module, or by hand) is used, not duplicated."""
        company = self.env["res.company"].create({"name": "PP adopt co"})
        own = self.env["account.account"].create(
            {
                "code": "291400",
                "name": "Our wallets",
                "account_type": "liability_current",
                "reconcile": True,
                "company_ids": company.ids,
            }
        )
        pool = self.env["points.pool"]._get_company_pool(company)
        self.assertEqual(pool.wallet_account_id, own)
        self.assertEqual(self._codes_count(company)["291400"], 1)
        self._assert_wired(pool)

    def test_company_field_reads_without_creating(self):
        """Reading ``company.points_pool_id`` never makes a pool."""
        company = self.env["res.company"].create({"name": "PP read-only co"})
        Pool = self.env["points.pool"].with_context(active_test=False)
        self.assertFalse(company.points_pool_id)
        self.assertFalse(Pool.search([("company_id", "=", company.id)]))
        pool = Pool._get_company_pool(company)
        company.invalidate_recordset(["points_pool_id"])
        self.assertEqual(company.points_pool_id, pool)
