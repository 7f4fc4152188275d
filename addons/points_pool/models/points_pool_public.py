"""The opt-in public page of a pool (``/points/pool/<slug>``, issue 13).

The page shows aggregate figures only (price, fund, supply, reserve, the price
path, what members were paid out, forced exits, the number of members) and the
SPEC 6 disclosure: no names, no per-member data.  Its figures come from a few
plain ``SELECT`` queries (never the pool row under its lock) and are cached per
pool for :data:`PUBLIC_CACHE_SECONDS` in the registry's ``ormcache`` (keyed by
a time bucket), so that a traffic spike costs one computation per pool and
minute and per worker.
"""

import re
import time
import unicodedata
from decimal import Decimal
from fractions import Fraction

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

#: how long a worker serves the same figures (seconds); also the page's
#: ``Cache-Control: max-age``
PUBLIC_CACHE_SECONDS = 60
#: at most this many points on the price chart
CHART_POINTS = 200
#: lowercase letters, digits and single hyphens between them
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 64
#: the fields whose change alters which page a slug serves
_PAGE_FIELDS = {"public_page", "public_slug", "active", "company_id"}


def slugify_name(name):
    """ASCII slug of ``name`` (accents dropped, other scripts removed)."""
    text = unicodedata.normalize("NFKD", name or "")
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:SLUG_MAX_LENGTH].strip("-")


def cache_bucket():
    """The current cache period (module-level so that tests can pin it)."""
    return int(time.time() // PUBLIC_CACHE_SECONDS)


def _sample_numbers(last, count=CHART_POINTS):
    """At most ``count`` ledger numbers evenly spread over ``1..last``,
    the last one always included."""
    if last <= 0:
        return []
    if last <= count:
        return list(range(1, last + 1))
    step = Fraction(last - 1, count - 1)
    return sorted({1 + int(step * index) for index in range(count - 1)} | {last})


class PointsPool(models.Model):
    _inherit = "points.pool"

    public_page = fields.Boolean(
        "Public page",
        default=False,
        tracking=True,
        copy=False,
        help="Publish the pool's aggregate figures (price, fund, supply, payouts, "
        "forced exits, member count, with the disclosure) at /points/pool/<slug>, "
        "for anyone. No member names or personal data are shown.",
    )
    public_slug = fields.Char(
        "Public address",
        compute="_compute_public_slug",
        store=True,
        readonly=False,
        copy=False,
        tracking=True,
        help="The last part of the public page's address: lowercase letters, "
        "digits and hyphens. Derived from the company name by default.",
    )
    public_url = fields.Char("Public page URL", compute="_compute_public_url")

    _sql_constraints = [
        (
            "public_slug_unique",
            "UNIQUE(public_slug)",
            "Another points pool already uses this public address.",
        ),
    ]

    @api.depends("company_id")
    def _compute_public_slug(self):
        self.env.cr.execute(
            SQL(
                "SELECT public_slug FROM points_pool WHERE public_slug IS NOT NULL "
                "AND id != ALL(%s)",
                [pool.id for pool in self if isinstance(pool.id, int)],
            )
        )
        taken = {row[0] for row in self.env.cr.fetchall()}
        for pool in self:
            if pool.public_slug and pool.public_slug not in taken:
                taken.add(pool.public_slug)
                continue
            base = slugify_name(pool.company_id.name) or "pool"
            if base == "pool" and pool.company_id.id:
                base = f"pool-{pool.company_id.id}"
            base = base[: SLUG_MAX_LENGTH - 4].strip("-")
            slug, index = base, 1
            while slug in taken:
                index += 1
                slug = f"{base}-{index}"
            taken.add(slug)
            pool.public_slug = slug

    @api.depends("public_slug")
    def _compute_public_url(self):
        base = self.get_base_url() if self else ""
        for pool in self:
            pool.public_url = (
                f"{base}/points/pool/{pool.public_slug}" if pool.public_slug else False
            )

    @api.constrains("public_slug")
    def _check_public_slug(self):
        for pool in self:
            slug = pool.public_slug
            if slug and (len(slug) > SLUG_MAX_LENGTH or not SLUG_RE.match(slug)):
                raise ValidationError(
                    _(
                        "The public address may only contain lowercase letters, "
                        "digits and hyphens (between them), at most %(max)s "
                        "characters.",
                        max=SLUG_MAX_LENGTH,
                    )
                )

    # ------------------------------------------------------------------
    # cache invalidation
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        pools = super().create(vals_list)
        if any(vals.get("public_page") for vals in vals_list):
            self.env.registry.clear_cache()
        return pools

    def write(self, vals):
        result = super().write(vals)
        if _PAGE_FIELDS & set(vals):
            # every worker drops its slugs and figures (registry signaling)
            self.env.registry.clear_cache()
        return result

    def action_open_public_page(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/points/pool/{self.public_slug}",
            "target": "new",
        }

    # ------------------------------------------------------------------
    # the figures (cached)
    # ------------------------------------------------------------------
    @api.model
    def _public_page_pool_id(self, slug):
        """Id of the active pool publishing ``slug``, or ``None``; no query
        once the published slugs are cached, whatever the slug asked."""
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            return None
        return self._public_page_slugs().get(slug)

    @api.model
    @tools.ormcache()
    def _public_page_slugs(self):
        """``{slug: pool id}`` of the published, active pools (cached until a
        pool's page settings change)."""
        self.env.cr.execute(
            "SELECT public_slug, id FROM points_pool WHERE public_page "
            "AND active AND public_slug IS NOT NULL"
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _public_page_values(self, pool_id):
        """The figures of the page of ``pool_id`` for the current cache period
        (computed at most once per period and worker).  The dict is shared:
        do not modify it."""
        return self._public_page_figures(pool_id, cache_bucket())

    @api.model
    @tools.ormcache("pool_id", "bucket")
    def _public_page_figures(self, pool_id, bucket):
        return self._public_page_compute(pool_id)

    @api.model
    def _public_page_compute(self, pool_id):
        """The page's figures by plain ``SELECT`` queries (no lock, no ORM read
        of the pool row): four queries whatever the size of the pool.

        :return: a dict of display strings and numbers (no records), or
            ``None`` when the pool does not exist
        """
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT p.name, co.name, p.fund::text, p.supply::text,
                       p.reserve::text, p.last_price_exact, p.initial_price::text,
                       p.ledger_number, cur.name, cur.symbol, cur.position,
                       cur.decimal_places, p.company_id
                  FROM points_pool p
                  JOIN res_company co ON co.id = p.company_id
                  JOIN res_currency cur ON cur.id = co.currency_id
                 WHERE p.id = %s
                """,
                pool_id,
            )
        )
        row = cr.fetchone()
        if not row:
            return None
        (
            pool_name,
            company_name,
            fund,
            supply,
            reserve,
            last_price,
            initial_price,
            ledger_number,
            currency_name,
            symbol,
            position,
            digits,
            company_id,
        ) = row
        fund = Decimal(fund or 0)
        supply = Decimal(supply or 0)
        reserve = Decimal(reserve or 0)
        if supply > 0:
            price = Fraction(fund) / Fraction(supply)
        elif last_price:
            price = Fraction(last_price)
        else:
            price = Fraction(Decimal(initial_price or 1))
        # pool_name may be a translated (jsonb) value
        if isinstance(pool_name, dict):
            pool_name = pool_name.get("en_US") or next(iter(pool_name.values()), "")

        # paid out to members: the payouts of sells and forced exits
        cr.execute(
            SQL(
                """
                SELECT COALESCE(SUM(wallet), 0)::text,
                       COUNT(*) FILTER (WHERE kind = 'exit')
                  FROM points_pool_move
                 WHERE pool_id = %s AND kind IN ('sell', 'exit')
                """,
                pool_id,
            )
        )
        paid_out, exits = cr.fetchone()
        cr.execute(
            SQL("SELECT COUNT(*) FROM points_member WHERE pool_id = %s", pool_id)
        )
        members = cr.fetchone()[0]

        # the price path: price_after of evenly spread ledger numbers (the
        # pool's numbers are contiguous; the unique index finds each one)
        numbers = _sample_numbers(ledger_number or 0)
        series = []
        if numbers:
            cr.execute(
                SQL(
                    """
                    SELECT m.number, m.price_after, m.date
                      FROM points_pool_move m
                     WHERE m.pool_id = %s AND m.number > 0
                       AND m.number = ANY(%s)
                     ORDER BY m.number
                    """,
                    pool_id,
                    numbers,
                )
            )
            series = [
                (number, float(price_after), date)
                for number, price_after, date in cr.fetchall()
                if price_after
            ]
        price_float = float(price)
        return {
            "pool_id": pool_id,
            "company_id": company_id,
            "pool_name": pool_name,
            "company_name": company_name,
            "currency": currency_name,
            "price": price_float,
            "price_display": f"{price_float:.4f}",
            "fund": float(fund),
            "fund_display": self._public_money(fund, symbol, position, digits),
            "supply": float(supply),
            "supply_display": f"{supply:,.4f}",
            "reserve": float(reserve),
            "reserve_display": self._public_money(reserve, symbol, position, digits),
            "paid_out": float(Decimal(paid_out)),
            "paid_out_display": self._public_money(
                Decimal(paid_out), symbol, position, digits
            ),
            "exit_count": exits,
            "member_count": members,
            "ledger_number": ledger_number or 0,
            "chart": self._public_chart(series, float(Decimal(initial_price or 1))),
        }

    @staticmethod
    def _public_money(amount, symbol, position, digits):
        text = f"{Decimal(amount):,.{digits}f}"
        return (
            f"{text}\u00a0{symbol}" if position == "after" else f"{symbol}\u00a0{text}"
        )

    @staticmethod
    def _public_chart(series, initial_price, width=600, height=200, pad=8):
        """An SVG polyline of ``series`` (``[(number, price, date)]``), from the
        initial price at event 0; ``None`` without events."""
        if not series:
            return None
        points = [(0, initial_price)] + [
            (number, price) for number, price, _d in series
        ]
        last = points[-1][0] or 1
        low = min(price for _n, price in points)
        high = max(price for _n, price in points)
        span = (high - low) or 1.0
        coordinates = " ".join(
            f"{pad + (width - 2 * pad) * number / last:.1f},"
            f"{height - pad - (height - 2 * pad) * (price - low) / span:.1f}"
            for number, price in points
        )
        return {
            "width": width,
            "height": height,
            "points": coordinates,
            "count": len(points),
            "low": f"{low:.4f}",
            "high": f"{high:.4f}",
            "events": series[-1][0],
            "first_date": series[0][2].date().isoformat() if series[0][2] else "",
            "last_date": series[-1][2].date().isoformat() if series[-1][2] else "",
        }
