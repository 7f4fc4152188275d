from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """A company that gets a chart later gets its pool, journal and accounts too."""
        res = super()._post_load_data(template_code, company, template_data)
        if not company.parent_id:
            self.env["points.pool"]._get_company_pool(company)
        return res
