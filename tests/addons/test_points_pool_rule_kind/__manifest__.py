{
    "name": "Points Pool: a rule kind and a ledger kind from another addon (tests)",
    "summary": "Test-only: registers a commission rule kind and a ledger kind without "
    "editing points_pool",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "license": "LGPL-3",
    "author": "points_pool",
    "website": "https://example.com/points_pool",
    "depends": ["points_pool"],
    "data": [],
    "installable": True,
    "auto_install": False,
}
