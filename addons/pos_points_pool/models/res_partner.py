import logging
import re
from fractions import Fraction

import psycopg2

from odoo import _, api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from odoo.addons.points_pool.core import money, referral
from odoo.addons.points_pool.core import order as order_core
from odoo.addons.points_pool.core.pool import POINT_DIGITS

_logger = logging.getLogger(__name__)

#: what the till's lookup matches with ILIKE '%…%' (trigram-indexed)
_TRIGRAM_COLUMNS = ("name", "phone", "mobile")

#: a referral link scanned at the till: ``https://shop.example/r/AB12CD``
_URL_CODE = re.compile(r"/r/([A-Za-z0-9_-]+)/?(?:[?#].*)?$")


class ResPartner(models.Model):
    _inherit = "res.partner"

    def init(self):
        """Trigram indexes for the till's lookup by a part of a name or phone
        number (``ILIKE '%…%'``): without them each lookup scans every partner
        (80 ms among 100,000 members, README *Benchmark*)."""
        res = super().init()
        cr = self.env.cr
        cr.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if not cr.fetchone():
            try:
                with cr.savepoint(flush=False):
                    cr.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except psycopg2.Error:
                _logger.warning(
                    "pg_trgm is not available: the till's member lookup by name or "
                    "phone scans res_partner (create the extension as a superuser)"
                )
                return res
        for column in _TRIGRAM_COLUMNS:
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS %s ON res_partner USING gin (%s gin_trgm_ops)",
                    SQL.identifier(f"res_partner_points_pos_{column}_trgm"),
                    SQL.identifier(column),
                )
            )
        return res

    @api.model
    def _points_pool_check_pos_user(self):
        """Members' points are shown at the till only: POS users, not portal users."""
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessError(_("Only Point of Sale users can look up points members."))

    # ------------------------------------------------------------------
    # the till asks the server: no member is loaded when a session opens
    # ------------------------------------------------------------------
    @api.model
    def points_pool_pos_lookup(self, query, config_id, limit=8):
        """Members (or customers) matching what the cashier typed or scanned:
        a referral code or link (exact), a partner barcode (exact), else a
        phone number or a part of the name.  Indexed lookups, a few queries
        whatever the number of members.

        :return: a list of dicts (see ``points.pool._pos_member_values``)
        """
        self._points_pool_check_pos_user()
        config = self.env["pos.config"].browse(int(config_id)).exists()
        query = (query or "").strip()
        if not config or not query:
            return []
        company = config.company_id
        Pool = self.env["points.pool"].sudo()
        pool = Pool.search([("company_id", "=", company.id)], limit=1)
        partners = self.browse()
        match = _URL_CODE.search(query)
        code = referral.normalize_code(match.group(1) if match else query)
        if code and pool:
            node = (
                self.env["points.referral.node"]
                .sudo()
                .search([("code", "=", code), ("pool_id", "=", pool.id)], limit=1)
            )
            partners = node.partner_id
        if not partners:
            partners = self.search(
                [("barcode", "=", query), ("company_id", "in", [False, company.id])],
                limit=limit,
            )
        if not partners and not match:
            domain = [("name", "ilike", query)]
            if len(re.sub(r"[^0-9]", "", query)) >= 4:
                # a phone number: as typed, or normalized where Odoo can (sms)
                phone = (
                    [("phone_mobile_search", "=", query)]
                    if "phone_mobile_search" in self._fields
                    else []
                )
                domain = [
                    "|",
                    "|",
                    ("phone", "ilike", query),
                    ("mobile", "ilike", query),
                ] + domain
                if phone:
                    domain = ["|"] + phone + domain
            partners = self.search(
                domain + [("company_id", "in", [False, company.id])], limit=limit
            )
        if not pool:
            return [
                {"id": p.id, "name": p.display_name, "member": False} for p in partners
            ]
        members = {
            member.partner_id: member
            for member in self.env["points.member"]
            .sudo()
            .search(
                [
                    ("pool_id", "=", pool.id),
                    ("partner_id", "in", partners.commercial_partner_id.ids),
                ]
            )
        }
        Member = self.env["points.member"]
        return [
            pool._pos_member_values(
                partner, members.get(partner.commercial_partner_id, Member)
            )
            for partner in partners
        ]

    @api.model
    def points_pool_pos_estimate(self, config_id, partner_id, lines):
        """Points this order would earn, computed by the server's own core
        (the till never does points arithmetic): the pool's bases of the
        lines at today's price.  The settlement price decides the real number.

        :param lines: ``[{"product_id", "qty", "price_subtotal"}]``, untaxed,
            in the till's currency
        """
        self._points_pool_check_pos_user()
        config = self.env["pos.config"].browse(int(config_id)).exists()
        if not config:
            return {"active": False}
        company = config.company_id
        Pool = self.env["points.pool"].sudo()
        cfg = Pool._get_checkout_config(company.id)
        if not cfg or not cfg["active"]:
            return {"active": False}
        pool = Pool.browse(cfg["pool_id"])
        digits = cfg["digits"]
        rate = Fraction(1)
        if config.currency_id != company.currency_id:
            rate = money.fraction_of(
                self.env["res.currency"]._get_conversion_rate(
                    company.currency_id, config.currency_id, company
                )
            )
        product_ids = sorted(
            {int(line["product_id"]) for line in lines or [] if line.get("product_id")}
        )
        rates = Pool._product_rates(product_ids)
        core_lines = []
        for line in lines or []:
            try:
                amount = money.fraction_of(str(line.get("price_subtotal") or 0))
                qty = money.fraction_of(str(line.get("qty") or 0))
            except (ArithmeticError, ValueError):
                continue
            product_id = int(line["product_id"]) if line.get("product_id") else None
            cost = None
            if cfg["contribution_base"] == "margin" and product_id:
                product = self.env["product.product"].browse(product_id)
                cost = money.product_minor(product.standard_price, qty, digits)
            core_lines.append(
                order_core.OrderLine(
                    product_id=product_id,
                    quantity=qty,
                    untaxed=money.convert_minor(amount, rate, digits),
                    cost=cost,
                    rate=rates.get(product_id),
                )
            )
        _basis, inflow, _margin, _units = order_core.order_amounts(
            core_lines,
            money.percent(cfg["contribution_rate"]),
            cfg["contribution_base"],
        )
        units = pool._estimate_points(inflow) if inflow > 0 else 0
        points = money.to_float(units, POINT_DIGITS)
        member = (
            self.env["points.member"]
            .sudo()
            ._find(pool, self.browse(int(partner_id)).commercial_partner_id)
            if partner_id
            else self.env["points.member"]
        )
        return {
            "active": True,
            "points": points,
            "points_display": pool._pos_points_display(points),
            "price_display": pool._pos_price_display(),
            "member_points_display": pool._pos_points_display(member.points_held),
        }
