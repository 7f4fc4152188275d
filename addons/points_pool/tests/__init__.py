from . import (
    test_api,
    test_commission,
    test_concurrency,
    test_core_commission,
    test_core_pool,
    test_core_properties,
    test_frontend,
    test_performance,
    test_points_pool,
    test_portal,
    test_referral,
)
