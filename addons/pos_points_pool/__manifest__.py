{
    "name": "Points Pool at the Till",
    "summary": "Points, commissions and store binding for Point of Sale orders, "
    "booked once by the server",
    "version": "18.0.1.0.0",
    "category": "Sales/Point of Sale",
    "license": "LGPL-3",
    "author": "points_pool",
    "website": "https://example.com/points_pool",
    "depends": ["points_pool", "point_of_sale"],
    "data": [
        "views/pos_config_views.xml",
        "views/pos_order_views.xml",
        "views/pos_payment_method_views.xml",
        "views/points_lot_views.xml",
    ],
    "demo": ["data/pos_points_pool_demo.xml"],
    "assets": {
        "point_of_sale._assets_pos": ["pos_points_pool/static/src/**/*"],
        "web.assets_tests": ["pos_points_pool/static/tests/tours/**/*"],
    },
    "installable": True,
    "auto_install": True,
}
