from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PosConfig(models.Model):
    _inherit = "pos.config"

    points_store_id = fields.Many2one(
        "res.partner",
        "Points store",
        domain="[('is_points_store', '=', True)]",
        help="The store this till sells for: its orders are the store's turnover "
        "(the store's recruiter earns the merchant-recruitment share) and a customer "
        "who joins the points programme here is bound to the store's owner.",
    )

    @api.constrains("points_store_id")
    def _check_points_store_id(self):
        for config in self.sudo():
            store = config.points_store_id
            if store and not store.is_points_store:
                raise ValidationError(
                    _("%s is not a points store.", store.display_name)
                )
            if store.company_id and store.company_id != config.company_id:
                raise ValidationError(
                    _(
                        "The points store %s belongs to another company.",
                        store.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # demo: the shop's till sells for the Shanghai store
    # ------------------------------------------------------------------
    @api.model
    def _points_pool_demo(self):
        """Link the demo till to the demo store and run a short day at the
        counter: three paid orders of members (one a walk-in who joins there)
        and one refund, synced as the till would, in a session left open."""
        config = self.env.ref("point_of_sale.pos_config_main", raise_if_not_found=False)
        store = self.env.ref(
            "points_pool.res_partner_demo_store_shanghai", raise_if_not_found=False
        )
        if not config or not store or config.current_session_id:
            return
        # open_ui refuses the superuser: the shop's administrator is the cashier
        cashier = self.env.ref("base.user_admin")
        self = self.with_user(cashier).with_company(config.company_id)  # noqa: PLW0642
        config = config.with_env(self.env)
        config.points_store_id = store
        products = self.env["product.product"].search(
            [("available_in_pos", "=", True), ("list_price", ">=", 20)],
            order="list_price, id",
            limit=3,
        )
        if not products:
            return
        config.open_ui()
        session = config.current_session_id
        session.set_opening_control(0, None)
        cash = config.payment_method_ids.filtered("is_cash_count")[:1]
        if not cash:
            return
        customers = [
            self.env.ref("points_pool.res_partner_demo_li_na"),
            self.env.ref("points_pool.res_partner_demo_wang_fang"),
            self.env["res.partner"].create(
                {"name": "门店新客 Walk-in", "phone": "13900000001"}
            ),
        ]

        def order_data(uuid, partner, lines):
            rows, total = [], 0.0
            for index, (product, qty, refunded) in enumerate(lines):
                price = product.lst_price
                rows.append(
                    (
                        0,
                        0,
                        {
                            "id": index + 1,
                            "product_id": product.id,
                            "qty": qty,
                            "price_unit": price,
                            "price_subtotal": price * qty,
                            "price_subtotal_incl": price * qty,
                            "tax_ids": [(6, 0, [])],
                            "refunded_orderline_id": refunded,
                            "pack_lot_ids": [],
                        },
                    )
                )
                total += price * qty
            return {
                "uuid": uuid,
                "name": f"Order {uuid}",
                "session_id": session.id,
                "partner_id": partner.id,
                "pricelist_id": config.pricelist_id.id,
                "user_id": self.env.uid,
                "sequence_number": 1,
                "date_order": fields.Datetime.to_string(fields.Datetime.now()),
                "amount_paid": total,
                "amount_total": total,
                "amount_tax": 0,
                "amount_return": 0,
                "lines": rows,
                "last_order_preparation_change": "{}",
                "payment_ids": [
                    (
                        0,
                        0,
                        {
                            "amount": total,
                            "payment_method_id": cash.id,
                            "name": fields.Datetime.now(),
                        },
                    )
                ],
                "to_invoice": False,
            }

        Order = self.env["pos.order"]
        synced = []
        for index, partner in enumerate(customers):
            lines = [(product, index + 1, False) for product in products[: index + 1]]
            result = Order.sync_from_ui(
                [order_data(f"demo-pp-{index}", partner, lines)]
            )
            synced.append(Order.browse(result["pos.order"][0]["id"]))
        first_line = synced[1].lines[:1]
        Order.sync_from_ui(
            [
                order_data(
                    "demo-pp-refund",
                    customers[1],
                    [(first_line.product_id, -first_line.qty, first_line.id)],
                )
            ]
        )
        pool = (
            self.env["points.pool"]
            .sudo()
            .search([("company_id", "=", config.company_id.id)], limit=1)
        )
        # what the jobs would do next: the queued refund, then the
        # commissions journalized, so Check pool is clean right after install
        pool._process_refund_queue()
        pool._settle_due()
        pool._commission_jobs()
