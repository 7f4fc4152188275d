from odoo import models

from ..controllers.referral_cookie import (
    forget_request_referral_code,
    get_request_referral_code,
)


class ResUsers(models.Model):
    _inherit = "res.users"

    def _signup_create_user(self, values):
        """A signup makes the new user a member and binds the remembered referrer."""
        user = super()._signup_create_user(values)
        code = get_request_referral_code(self.env)
        user._points_pool_enroll(code)
        if code:
            forget_request_referral_code()
        return user

    def signup(self, values, token=None):
        """An invited user who sets a password (signup token) is enrolled too."""
        result = super().signup(values, token)
        if token and result and result[0]:
            user = self.sudo().search([("login", "=", result[0])], limit=1)
            if user.share:
                code = get_request_referral_code(self.env)
                user._points_pool_enroll(code)
                if code:
                    forget_request_referral_code()
        return result

    def _points_pool_enroll(self, code):
        """Enrol the user's partner in its company's pool; bind ``code`` if given."""
        self.ensure_one()
        Node = self.env["points.referral.node"].sudo()
        partner = self.partner_id.commercial_partner_id
        if code:
            node = Node._bind_partner_by_code(
                partner, code, "signup", company=self.company_id
            )
            if node:
                return node
        pool = self.env["points.pool"].sudo()._get_company_pool(self.company_id)
        if not pool.active:
            return Node
        return self.env["points.member"]._get_or_create(pool, partner).referral_node_id
