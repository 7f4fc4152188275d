from . import test_core_pool
from . import test_core_properties
from . import test_points_pool
from . import test_concurrency
from . import test_performance
from . import test_api
