from fractions import Fraction

from odoo import fields, models

from ..core import money


class ProductCategory(models.Model):
    _inherit = "product.category"

    points_pool_rate_set = fields.Boolean("Own pool contribution")
    points_pool_rate = fields.Float("Pool contribution (%)", digits=(16, 4))


class ProductTemplate(models.Model):
    _inherit = "product.template"

    points_pool_rate_set = fields.Boolean("Own pool contribution")
    points_pool_rate = fields.Float(
        "Pool contribution (%)",
        digits=(16, 4),
        help="Overrides the category's and the pool's contribution rate for this product.",
    )


class ProductProduct(models.Model):
    _inherit = "product.product"

    def _points_pool_rate(self):
        """Contribution rate of this product as a fraction, or None for the pool's."""
        self.ensure_one()
        if self.points_pool_rate_set:
            return money.fraction_of(self.points_pool_rate) / Fraction(100)
        category = self.categ_id
        while category:
            if category.points_pool_rate_set:
                return money.fraction_of(category.points_pool_rate) / Fraction(100)
            category = category.parent_id
        return None
