from . import test_pos_credit, test_pos_multi_company, test_pos_points_pool, test_tour
