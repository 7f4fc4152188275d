from . import (
    account_chart_template,
    account_move,
    points_lot,
    points_member,
    points_pool,
    points_pool_demo,
    points_pool_move,
    points_withdrawal,
    product,
    res_company,
    res_config_settings,
    sale_order,
)
