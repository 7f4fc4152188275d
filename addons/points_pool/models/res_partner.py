from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .points_referral_node import referral_qr_data_uri


class ResPartner(models.Model):
    _inherit = "res.partner"

    points_member_ids = fields.One2many(
        "points.member", "partner_id", string="Points memberships"
    )
    points_member_count = fields.Integer(compute="_compute_points_member_count")

    def _compute_points_member_count(self):
        counts = dict(
            self.env["points.member"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.points_member_count = counts.get(partner, 0)

    def action_open_points_members(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "points_pool.points_member_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        return action

    # stores (门店): a partner whose QR binds new customers to the store's owner
    is_points_store = fields.Boolean(
        "Points store",
        groups="points_pool.points_pool_group_manager",
        help="A shop of the programme: its QR binds new customers to its owner.",
    )
    points_store_owner_id = fields.Many2one(
        "res.partner",
        "Store owner",
        groups="points_pool.points_pool_group_manager",
        tracking=True,
        help="The member new customers of this store are bound to.",
    )
    points_store_recruiter_id = fields.Many2one(
        "points.member",
        "Recruited by",
        groups="points_pool.points_pool_group_manager",
        tracking=True,
        help="The member who recruited this store (招商); the merchant recruitment "
        "rule pays them a share of the store's turnover.",
    )
    points_store_code = fields.Char(
        "Store referral code", copy=False, readonly=True, index="btree_not_null"
    )
    points_store_url = fields.Char(
        "Store referral link", compute="_compute_points_store_url"
    )

    _sql_constraints = [
        (
            "points_store_code_unique",
            "UNIQUE(points_store_code)",
            "Store referral codes are unique.",
        ),
    ]

    @api.depends("points_store_code")
    def _compute_points_store_url(self):
        base = self.get_base_url() if self else ""
        for partner in self:
            partner.points_store_url = (
                f"{base}/r/{partner.points_store_code}"
                if partner.points_store_code
                else False
            )

    @api.constrains("is_points_store", "points_store_owner_id")
    def _check_points_store(self):
        for partner in self.sudo():
            if partner.is_points_store and not partner.points_store_owner_id:
                raise ValidationError(
                    _("Store %(store)s needs an owner.", store=partner.display_name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners.sudo().filtered("is_points_store")._points_store_assign_codes()
        return partners

    def write(self, vals):
        res = super().write(vals)
        if vals.get("is_points_store"):
            self.sudo().filtered("is_points_store")._points_store_assign_codes()
        return res

    def _points_store_assign_codes(self):
        stores = self.filtered(lambda p: not p.points_store_code)
        codes = self.env["points.referral.node"]._new_codes(len(stores))
        for store, code in zip(stores, codes, strict=True):
            store.sudo().points_store_code = code

    def _get_points_store_qr_data_uri(self):
        """QR of the store's referral link as a data URI (printed store QR)."""
        self.ensure_one()
        url = self.points_store_url
        return referral_qr_data_uri(url) if url else ""
