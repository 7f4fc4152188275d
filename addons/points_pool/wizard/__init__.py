from . import (
    points_pool_check,
    points_pool_inject,
    points_pool_pay,
    points_pool_sell,
    points_pool_simulate,
    points_referral_reassign,
)
