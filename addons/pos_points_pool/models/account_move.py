from odoo import api, models
from odoo.tools import SQL


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _points_pool_sale_lines_sql(self):
        """The till books what it sells, invoiced or not: an invoice made by a
        POS order (also one that settles a sale order, pos_sale) is not booked
        again by the sale source (in the same query: no cost)."""
        return SQL(
            "%s AND NOT EXISTS (SELECT 1 FROM pos_order po WHERE po.account_move = l.move_id)",
            super()._points_pool_sale_lines_sql(),
        )

    def _invoice_paid_hook(self):
        """An invoiced POS order paid by "customer account" earns that share
        when its invoice is actually paid (``pos.order:<uuid>/later``)."""
        res = super()._invoice_paid_hook()
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        if not invoices:
            return res
        # one query: the POS orders of these invoices paid by customer account
        self.env["pos.order"].flush_model(["account_move"])
        self.env["pos.payment"].flush_model(["pos_order_id", "payment_method_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT po.id FROM pos_order po
                  JOIN pos_payment pp ON pp.pos_order_id = po.id
                  JOIN pos_payment_method pm ON pm.id = pp.payment_method_id
                 WHERE po.account_move = ANY(%s) AND pm.journal_id IS NULL
                   AND NOT COALESCE(pm.points_credit, FALSE)
                """,
                invoices.ids,
            )
        )
        orders = (
            self.env["pos.order"].sudo().browse([r[0] for r in self.env.cr.fetchall()])
        )
        orders = orders.filtered(
            lambda order: any(
                p.payment_method_id.type == "pay_later"
                and not p.payment_method_id.points_credit
                for p in order.payment_ids
            )
        )
        if orders:
            orders._points_pool_book("later")
        return res
