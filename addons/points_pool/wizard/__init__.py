from . import points_pool_sell
from . import points_pool_inject
from . import points_pool_check
