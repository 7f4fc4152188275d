from . import controllers, models, report, wizard


def _post_init_hook(env):
    """Create the pool, its journal and accounts for every company with a chart."""
    for company in env["res.company"].search([("chart_template", "!=", False)]):
        env["points.pool"]._get_company_pool(company)
