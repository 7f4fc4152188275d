{
    "name": "Points Pool",
    "summary": "Consumption-appreciation points pool on sale orders, with wallet, "
    "withdrawals and accounting",
    "version": "18.0.1.0.0",
    "category": "Sales",
    "license": "LGPL-3",
    "author": "points_pool",
    "website": "https://example.com/points_pool",
    "depends": ["sale_management", "account", "mail", "portal"],
    "data": [],
    "demo": [],
    "installable": True,
    "application": True,
}
