"""Regions for regional agents and service points (SPEC section 4).

A region hierarchy sits on top of Odoo's countries and states::

    region (大区)  →  province (省, one res.country.state)
                   →  city (市, by the address's city name)
                   →  district (区, by postcode prefixes)

The delivery address of an order resolves to at most one region per level in
one query (:meth:`PointsRegion._resolve_addresses`); each region has at most
one agent.  Regions of the same level never overlap: a state belongs to one
province, a city name to one city of a province, a postcode prefix to one
district of a city.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..core.pool import LOT_CANCELLED
from .points_commission_plan import REGION_LEVEL_SELECTION

PARENT_LEVEL = {"district": "city", "city": "province", "province": "region"}


class PointsRegion(models.Model):
    _name = "points.region"
    _description = "Agent Region"
    _inherit = ["mail.thread"]
    _parent_store = True
    _order = "complete_name"
    _rec_name = "complete_name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    complete_name = fields.Char(
        compute="_compute_complete_name", store=True, recursive=True
    )
    level = fields.Selection(REGION_LEVEL_SELECTION, required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    parent_id = fields.Many2one(
        "points.region",
        "Part of",
        index=True,
        ondelete="restrict",
        check_company=True,
        tracking=True,
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("points.region", "parent_id", string="Sub-regions")
    country_id = fields.Many2one(
        "res.country", default=lambda self: self.env.company.country_id
    )
    state_id = fields.Many2one(
        "res.country.state",
        "State / province",
        domain="[('country_id', '=?', country_id)]",
        help="Provinces: the address state that belongs to this province.",
    )
    city_name = fields.Char(
        "City", help="Cities: the address city (case and spaces ignored)."
    )
    zip_prefixes = fields.Char(
        "Postcode prefixes",
        help="Districts: comma-separated postcode prefixes, e.g. 200001, 20002.",
    )
    agent_id = fields.Many2one(
        "points.member",
        check_company=True,
        tracking=True,
        help="The member paid by the regional rule on orders delivered here.",
    )
    active = fields.Boolean(default=True)

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for region in self:
            region.complete_name = (
                f"{region.parent_id.complete_name} / {region.name}"
                if region.parent_id
                else region.name
            )

    @staticmethod
    def _norm(text):
        return "".join((text or "").split()).lower()

    def _prefixes(self):
        return [p.strip() for p in (self.zip_prefixes or "").split(",") if p.strip()]

    @api.constrains(
        "level",
        "parent_id",
        "state_id",
        "city_name",
        "zip_prefixes",
        "company_id",
        "active",
    )
    def _check_region(self):
        for region in self:
            wanted = PARENT_LEVEL.get(region.level)
            if region.level == "region" and region.parent_id:
                raise ValidationError(
                    _("A region (大区) is the top level: it has no parent.")
                )
            if wanted and region.parent_id and region.parent_id.level != wanted:
                raise ValidationError(
                    _(
                        "%(region)s: a %(level)s is part of a %(parent)s.",
                        region=region.name,
                        level=dict(REGION_LEVEL_SELECTION)[region.level],
                        parent=dict(REGION_LEVEL_SELECTION)[wanted],
                    )
                )
            if region.level == "province" and not region.state_id:
                raise ValidationError(_("%s: a province names its state.", region.name))
            if region.level == "city" and not (region.city_name and region.parent_id):
                raise ValidationError(
                    _("%s: a city names its city and its province.", region.name)
                )
            if region.level == "district" and not (
                region._prefixes() and region.parent_id
            ):
                raise ValidationError(
                    _(
                        "%s: a district names its postcode prefixes and its city.",
                        region.name,
                    )
                )
        self._check_overlap()

    def _check_overlap(self):
        """Regions of one level never overlap (a clear error names both)."""
        for region in self.filtered("active"):
            siblings = self.search(
                [
                    ("company_id", "=", region.company_id.id),
                    ("level", "=", region.level),
                    ("id", "!=", region.id),
                ]
            )
            for other in siblings:
                overlap = False
                if region.level == "province":
                    overlap = other.state_id == region.state_id
                elif region.level == "city":
                    overlap = other.parent_id == region.parent_id and self._norm(
                        other.city_name
                    ) == self._norm(region.city_name)
                elif region.level == "district":
                    overlap = other.parent_id == region.parent_id and any(
                        a.startswith(b) or b.startswith(a)
                        for a in region._prefixes()
                        for b in other._prefixes()
                    )
                if overlap:
                    raise ValidationError(
                        _(
                            "%(region)s overlaps %(other)s: regions of the same level "
                            "cannot cover the same addresses.",
                            region=region.complete_name or region.name,
                            other=other.complete_name,
                        )
                    )

    @api.model
    def _resolve_addresses(self, company, partners):
        """The agent of each region level of each delivery address, one query.

        :return: ``{partner id: {level: member id}}`` (levels without an agent
            are left out; a region without an agent pays nobody)
        """
        partners = partners.filtered("state_id")
        if not partners:
            return {}
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT id, level, parent_id, parent_path, state_id, city_name,
                       zip_prefixes, agent_id
                  FROM points_region
                 WHERE company_id = %s AND active
                   AND (level = 'region'
                        OR (level = 'province' AND state_id IN %s)
                        OR (level IN ('city', 'district')))
                """,
                company.id,
                tuple(partners.state_id.ids),
            )
        )
        rows = self.env.cr.dictfetchall()
        by_id = {row["id"]: row for row in rows}
        result = {}
        for partner in partners:
            province = next(
                (
                    r
                    for r in rows
                    if r["level"] == "province" and r["state_id"] == partner.state_id.id
                ),
                None,
            )
            if not province:
                continue
            found = {"province": province}
            if province["parent_id"] in by_id:
                found["region"] = by_id[province["parent_id"]]
            city = next(
                (
                    r
                    for r in rows
                    if r["level"] == "city"
                    and r["parent_id"] == province["id"]
                    and self._norm(r["city_name"]) == self._norm(partner.city)
                ),
                None,
            )
            if city:
                found["city"] = city
                zip_code = (partner.zip or "").strip()
                district = next(
                    (
                        r
                        for r in rows
                        if r["level"] == "district"
                        and r["parent_id"] == city["id"]
                        and zip_code
                        and any(
                            zip_code.startswith(p.strip())
                            for p in (r["zip_prefixes"] or "").split(",")
                            if p.strip()
                        )
                    ),
                    None,
                )
                if district:
                    found["district"] = district
            result[partner.id] = {
                level: row["agent_id"]
                for level, row in found.items()
                if row["agent_id"]
            }
        return result


class PointsServicePoint(models.Model):
    """A pickup location (服务点); its member is paid when a pickup is verified."""

    _name = "points.service.point"
    _description = "Service Point"
    _inherit = ["mail.thread"]
    _order = "name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one("res.partner", "Address", check_company=True)
    member_id = fields.Many2one(
        "points.member",
        "Paid member",
        required=True,
        check_company=True,
        tracking=True,
        help="The member the service-point rule pays on verified pickups.",
    )
    region_id = fields.Many2one("points.region", check_company=True)
    active = fields.Boolean(default=True)
    order_count = fields.Integer(compute="_compute_order_count")

    def _compute_order_count(self):
        # orders of every source picked up here: the lots they booked
        counts = dict(
            self.env["points.lot"]
            .sudo()
            ._read_group(
                [("service_point_id", "in", self.ids), ("state", "!=", LOT_CANCELLED)],
                ["service_point_id"],
                ["__count"],
            )
        )
        for point in self:
            point.order_count = counts.get(point, 0)
