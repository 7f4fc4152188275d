"""The pool's accounts and journals, as chart-of-accounts template data.

One table of accounts and one of journals (below), loaded through Odoo's
chart-template machinery, the way ``stock_account`` adds its journal: a
company that gets a chart gets them with it (``@template`` functions), and a
company whose chart was loaded before this module, or that has none, gets them
from the same data (:meth:`AccountChartTemplate._points_pool_load`, called by
the pool).  Records get the chart's usual xmlids (``account.<company>_<key>``).
"""

from odoo import _, models

from odoo.addons.account.models.chart_template import template

#: (field on points.pool, template key, code, name, account type, reconcile)
POOL_ACCOUNTS = [
    (
        "pool_account_id",
        "points_pool_liability",
        "291100",
        "Points pool liability",
        "liability_current",
        False,
    ),
    (
        "pending_account_id",
        "points_pool_pending",
        "291200",
        "Points pool liability - pending",
        "liability_current",
        False,
    ),
    (
        "reserve_account_id",
        "points_pool_reserve",
        "291300",
        "Points pool liability - dormant reserve",
        "liability_current",
        False,
    ),
    (
        "wallet_account_id",
        "points_pool_wallet",
        "291400",
        "Member wallets payable",
        "liability_current",
        True,
    ),
    (
        "credit_account_id",
        "points_pool_credit",
        "291500",
        "Repurchase credit (contract liability)",
        "liability_current",
        False,
    ),
    (
        "commission_payable_account_id",
        "points_pool_commission_payable",
        "291600",
        "Commission payable",
        "liability_current",
        False,
    ),
    (
        "commission_frozen_account_id",
        "points_pool_commission_frozen",
        "291700",
        "Commission payable - frozen",
        "liability_current",
        False,
    ),
    (
        "dividend_account_id",
        "points_pool_dividend",
        "291800",
        "Dividend pool",
        "liability_current",
        False,
    ),
    (
        "custody_account_id",
        "points_pool_custody",
        "109100",
        "Points pool custody bank",
        "asset_current",
        False,
    ),
    (
        "contra_account_id",
        "points_pool_contra",
        "419100",
        "Revenue contra - points pool contribution",
        "income",
        False,
    ),
    (
        "injection_account_id",
        "points_pool_injection",
        "619100",
        "Points pool marketing expense",
        "expense",
        False,
    ),
    (
        "commission_expense_account_id",
        "points_pool_commission_expense",
        "619200",
        "Commission expense",
        "expense",
        False,
    ),
]

#: (field on points.pool, template key, code); names in _get_points_pool_account_journal
POOL_JOURNALS = [
    ("journal_id", "points_pool_journal", "PPOOL"),
    ("commission_journal_id", "points_pool_commission_journal", "PCOMM"),
]

#: every accounting field of the pool, with its template key
POOL_ACCOUNTING_FIELDS = {
    field: key for field, key, *_rest in POOL_ACCOUNTS + POOL_JOURNALS
}


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    @template(model="account.account")
    def _get_points_pool_account_account(self, template_code):
        return {
            key: {
                "name": name,
                "code": code,
                "account_type": account_type,
                "reconcile": reconcile,
            }
            for _field, key, code, name, account_type, reconcile in POOL_ACCOUNTS
        }

    @template(model="account.journal")
    def _get_points_pool_account_journal(self, template_code):
        names = {
            "points_pool_journal": _("Points Pool"),
            "points_pool_commission_journal": _("Commissions"),
        }
        return {
            key: {
                "name": names[key],
                "code": code,
                "type": "general",
                "show_on_dashboard": False,
            }
            for _field, key, code in POOL_JOURNALS
        }

    def _post_load_data(self, template_code, company, template_data):
        """A company that gets a chart gets its pool, wired to the accounts and
        journals the chart has just created from the data above."""
        res = super()._post_load_data(template_code, company, template_data)
        company = company or self.env.company
        if not company.parent_id:
            self.env["points.pool"]._get_company_pool(company)._setup_accounting()
        return res

    def _points_pool_load(self, company):
        """Make sure ``company`` has the pool's accounts and journals.

        Records the chart loaded are used as they are; a record of the same
        code made before (an older version of this module, or by hand) is
        adopted (it gets the template's xmlid); the rest is created by
        :meth:`_load_data` from the template data, as a chart load would.

        :return: ``{field on points.pool: record}``
        """
        self = self.sudo().with_company(company)  # ref() and _load_data use env.company
        data = {
            "account.account": self._get_points_pool_account_account(
                company.chart_template
            ),
            "account.journal": self._get_points_pool_account_journal(
                company.chart_template
            ),
        }
        adopt = []
        for model, records in data.items():
            Model = self.env[model].with_company(company)
            for key in list(records):
                if self.ref(key, raise_if_not_found=False):
                    del records[key]
                    continue
                existing = Model.search(
                    [
                        *Model._check_company_domain(company),
                        ("code", "=", records[key]["code"]),
                    ],
                    limit=1,
                )
                if existing:
                    adopt.append(
                        {
                            "xml_id": f"account.{company.id}_{key}",
                            "record": existing,
                            "noupdate": True,
                        }
                    )
                    del records[key]
        if adopt:
            self.env["ir.model.data"]._update_xmlids(adopt)
        if any(data.values()):
            self._load_data({model: recs for model, recs in data.items() if recs})
        return {field: self.ref(key) for field, key in POOL_ACCOUNTING_FIELDS.items()}
