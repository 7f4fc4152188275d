"""The benchmark's database: opened, or created with the modules installed and
no demo data; dropped with its filestore at the end (``--drop``)."""

import shutil
import time

from .harness import report

MODULES = ("points_pool", "pos_points_pool")


def open_registry(args):
    """Parse the Odoo config, create and install the database if needed."""
    import odoo
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    from odoo.service import db as db_service

    if not db_service.exp_db_exist(args.database):
        modules = ", ".join(MODULES)
        print(
            f"creating database {args.database} ({modules}, no demo data)...",
            flush=True,
        )
        start = time.perf_counter()
        db_service._create_empty_database(args.database)
        config["init"] = dict.fromkeys(MODULES, 1)
        config["without_demo"] = "all"
        registry = odoo.modules.registry.Registry.new(args.database, update_module=True)
        config["init"] = {}
        report(f"install {modules} (no demo)", f"{time.perf_counter() - start:.1f} s")
        return registry
    return odoo.modules.registry.Registry(args.database)


def drop_database(database):
    """Drop ``database`` and its filestore.

    Not ``odoo.service.db.exp_drop``: it is refused when list_db is off (odoo.conf).
    """
    import odoo
    from odoo.modules.registry import Registry

    Registry.delete(database)
    odoo.sql_db.close_db(database)
    conn = odoo.sql_db.db_connect("postgres")
    with conn.cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(f'DROP DATABASE IF EXISTS "{database}"')
    shutil.rmtree(odoo.tools.config.filestore(database), ignore_errors=True)
