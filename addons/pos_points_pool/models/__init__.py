from . import (
    account_move,
    points_commission_line,
    points_lot,
    points_pool,
    pos_config,
    pos_credit,
    pos_order,
    pos_payment_method,
    res_config_settings,
    res_partner,
)
