from . import (
    points_pool_check,
    points_pool_inject,
    points_pool_pay,
    points_pool_sell,
    points_referral_reassign,
)
