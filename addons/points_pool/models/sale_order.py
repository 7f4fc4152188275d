from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..controllers.referral_cookie import (
    forget_request_referral_code,
    get_request_referral_code,
)
from ..core import commission as commission_core
from ..core.pool import LOT_CANCELLED


class SaleOrder(models.Model):
    _inherit = "sale.order"

    points_lot_ids = fields.One2many(
        "points.lot", "sale_order_id", string="Points lots"
    )
    points_minted = fields.Float(
        "Points earned", digits="Points", compute="_compute_points_minted"
    )
    points_referral_code = fields.Char(
        "Referral code",
        copy=False,
        help="Referral code of a member or store. When the customer is not bound "
        "to a referrer yet, confirming the order binds them (first binding wins; "
        "a bound customer keeps their referrer).",
    )
    points_store_id = fields.Many2one(
        "res.partner",
        "Store",
        copy=False,
        help="The store that sold the order: its recruiter earns the merchant "
        "recruitment share of the store's turnover.",
    )
    points_service_point_id = fields.Many2one(
        "points.service.point",
        "Service point",
        check_company=True,
        copy=False,
        help="Where the customer picks the order up.",
    )
    points_pickup_date = fields.Datetime("Pickup verified", readonly=True, copy=False)
    points_pickup_user_id = fields.Many2one(
        "res.users", "Pickup verified by", readonly=True, copy=False
    )
    points_commission_line_ids = fields.One2many(
        "points.commission.line", "sale_order_id", string="Commissions"
    )
    points_commission_count = fields.Integer(compute="_compute_points_commission_count")
    points_referrer_id = fields.Many2one(
        "res.partner",
        "Customer's referrer",
        compute="_compute_points_referrer_id",
        help="The referrer the customer is bound to in the referral tree.",
    )

    def _compute_points_minted(self):
        minted = dict(
            self.env["points.lot"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["minted:sum"]
            )
        )
        for order in self:
            order.points_minted = minted.get(order, 0.0)

    @api.constrains("points_store_id")
    def _check_points_store_id(self):
        for order in self.sudo():
            if order.points_store_id and not order.points_store_id.is_points_store:
                raise ValidationError(
                    _("%s is not a points store.", order.points_store_id.display_name)
                )

    def _compute_points_commission_count(self):
        counts = dict(
            self.env["points.commission.line"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.points_commission_count = counts.get(order, 0)

    def action_points_verify_pickup(self):
        """The service point confirms the customer picked the order up; the
        service-point rule pays once the order is paid (now, if it is)."""
        for order in self:
            if not order.points_service_point_id:
                raise UserError(_("Choose the order's service point first."))
            if order.points_pickup_date:
                raise UserError(_("The pickup of %s was already verified.", order.name))
            order.write(
                {
                    "points_pickup_date": fields.Datetime.now(),
                    "points_pickup_user_id": self.env.uid,
                }
            )
            order.message_post(
                body=_(
                    "Pickup verified at %(point)s.",
                    point=order.points_service_point_id.name,
                )
            )
        lots = self.sudo().points_lot_ids.filtered(
            lambda lot: lot.state != LOT_CANCELLED
        )
        if lots:
            # the seam: the pool and the commissions read the lot, not the order
            for order in self:
                order_lots = lots.filtered(lambda lot, o=order: lot.sale_order_id == o)
                if order_lots:
                    order_lots._set_pickup_verified(order.points_pickup_date)
            self.env["points.commission.line"].sudo()._accrue_lots(
                lots,
                kinds=commission_core.kinds_reading(
                    commission_core.SERVICE_POINT_MEMBER
                ),
                check_existing=True,
            )
        return True

    def action_open_points_commissions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_commission_line_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.depends("partner_id", "company_id")
    def _compute_points_referrer_id(self):
        nodes = {
            (node.partner_id, node.company_id): node.parent_id.partner_id
            for node in self.env["points.referral.node"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", self.partner_id.commercial_partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                ]
            )
        }
        for order in self:
            order.points_referrer_id = nodes.get(
                (order.partner_id.commercial_partner_id, order.company_id), False
            )

    def action_confirm(self):
        """Confirming an order binds its customer to the referral code it carries.

        The code is the order's own field, or the visitor's cookie when the
        customer confirms their own order (signing a quotation on the portal);
        a salesperson's cookie never binds their customers.  Costs no query for
        orders without a code: the checkout budget of SPEC section 2 is kept.
        """
        cookie_code = get_request_referral_code(self.env)
        customer = cookie_code and self.env.user.partner_id.commercial_partner_id
        res = super().action_confirm()
        Node = self.env["points.referral.node"].sudo()
        for order in self:
            partner = order.partner_id.commercial_partner_id
            own_cookie = cookie_code if partner == customer else None
            code = order.points_referral_code or own_cookie
            if code:
                Node._bind_partner_by_code(
                    partner, code, "order", company=order.company_id
                )
                if own_cookie:
                    forget_request_referral_code()
        return res

    def action_open_points_lots(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_lot_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        return action
