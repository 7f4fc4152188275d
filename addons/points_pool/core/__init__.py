"""Pure-Python core of points_pool: no Odoo import may appear below this folder."""

from . import money, order, pool
