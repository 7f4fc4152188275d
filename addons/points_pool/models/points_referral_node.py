import base64
import io
import logging

import qrcode

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..core import money, referral
from ..core.pool import LOT_SETTLED
from .points_pool import is_manager

_logger = logging.getLogger(__name__)

BIND_SOURCE_SELECTION = [
    ("link", "Referral link"),
    ("signup", "Signup"),
    ("order", "First order"),
    ("store", "Store QR"),
    ("code", "Code entered"),
    ("manager", "Manager"),
]

#: appended to a ``parent_path`` it bounds the subtree: every descendant's path
#: starts with the node's and continues with digits or "/", which sort below ":"
SUBTREE_END = ":"


def referral_qr_png(url, box_size=8):
    """PNG bytes of a QR code of ``url`` (Odoo already ships ``qrcode``)."""
    image = qrcode.make(url, box_size=box_size, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def referral_qr_data_uri(url):
    """The QR of ``url`` as a ``data:`` URI, for QWeb reports and portal pages."""
    return "data:image/png;base64," + base64.b64encode(referral_qr_png(url)).decode()


class PointsReferralNode(models.Model):
    """A member's place in the referral tree of a company (SPEC section 3).

    One node per :class:`points.member`.  The tree is a materialized path
    (``_parent_store``): the upline of any depth is the ids in ``parent_path``
    (no query to find them, one to read them) and a downline is one indexed
    prefix scan (``parent_path LIKE '1/5/%'``).  ``res.partner.parent_id`` is
    not used: it means "contact of a company" in Odoo.

    Binding is first-come and then locked; only a manager re-assigns, with a
    reason, and every binding is written to ``points.referral.log``.  Binding
    never touches points, wallets or commissions already booked.
    """

    _name = "points.referral.node"
    _description = "Referral Tree Node"
    _parent_store = True
    _parent_name = "parent_id"
    _order = "id"
    _check_company_auto = True

    member_id = fields.Many2one(
        "points.member",
        "Membership",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    partner_id = fields.Many2one(
        related="member_id.partner_id", store=True, index=True, string="Member"
    )
    company_id = fields.Many2one(related="member_id.company_id", store=True, index=True)
    pool_id = fields.Many2one(related="member_id.pool_id", store=True)
    currency_id = fields.Many2one(related="member_id.currency_id")
    code = fields.Char(
        "Referral code", required=True, readonly=True, copy=False, index=True
    )
    parent_id = fields.Many2one(
        "points.referral.node",
        "Referrer",
        index=True,
        ondelete="restrict",
        readonly=True,
        check_company=True,
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("points.referral.node", "parent_id", "Direct team")
    referrer_partner_id = fields.Many2one(
        related="parent_id.partner_id", string="Referred by"
    )
    bind_date = fields.Datetime("Bound on", readonly=True)
    bind_source = fields.Selection(BIND_SOURCE_SELECTION, "Bound by", readonly=True)
    bind_store_id = fields.Many2one(
        "res.partner", "Through store", readonly=True, index="btree_not_null"
    )
    rank_id = fields.Many2one(
        "points.rank", readonly=True, index="btree_not_null", check_company=True
    )
    rank_level = fields.Integer(related="rank_id.level")
    depth = fields.Integer(compute="_compute_depth")
    referral_url = fields.Char("Referral link", compute="_compute_referral_url")
    direct_count = fields.Integer("Direct members", compute="_compute_team")
    team_count = fields.Integer("Team size", compute="_compute_team")
    own_volume = fields.Monetary(
        compute="_compute_team",
        help="Settled sales of this member (open, sold-out and exited lots).",
    )
    team_volume = fields.Monetary(
        compute="_compute_team", help="Settled sales of the whole downline."
    )

    _sql_constraints = [
        ("member_unique", "UNIQUE(member_id)", "A member has one place in the tree."),
        ("code_unique", "UNIQUE(code)", "Referral codes are unique."),
    ]

    def init(self):
        # prefix scans on the materialized path, whatever the database collation
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS points_referral_node_path_idx "
            "ON points_referral_node (parent_path text_pattern_ops)"
        )

    @api.depends("member_id.partner_id.name")
    def _compute_display_name(self):
        for node in self:
            node.display_name = node.partner_id.display_name or node.code

    @api.depends("parent_path")
    def _compute_depth(self):
        for node in self:
            node.depth = max(len(referral.path_ids(node.parent_path)) - 1, 0)

    @api.depends("code")
    def _compute_referral_url(self):
        base = self.get_base_url() if self else ""
        for node in self:
            node.referral_url = f"{base}/r/{node.code}" if node.code else False

    def _compute_team(self):
        """Counts and volumes of the nodes' subtrees: two queries for any batch."""
        stats = self._get_team_stats()
        for node in self:
            row = stats.get(node.id, {})
            digits = node.currency_id.decimal_places
            node.direct_count = row.get("direct", 0)
            node.team_count = row.get("team", 0)
            node.own_volume = money.to_float(row.get("own", 0), digits)
            node.team_volume = money.to_float(row.get("team_volume", 0), digits)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        missing = [vals for vals in vals_list if not vals.get("code")]
        for vals, code in zip(missing, self._new_codes(len(missing)), strict=True):
            vals["code"] = code
        return super().create(vals_list)

    #: changed only by binding, re-assignment and rank methods (as superuser)
    _PROTECTED_FIELDS = frozenset(
        {
            "member_id",
            "code",
            "parent_id",
            "bind_date",
            "bind_source",
            "bind_store_id",
            "rank_id",
        }
    )

    def write(self, vals):
        if not self.env.su and self._PROTECTED_FIELDS & set(vals):
            raise UserError(
                _(
                    "Referrers and ranks change only through a binding, the "
                    "re-assignment wizard or a rank change, which are logged."
                )
            )
        return super().write(vals)

    @api.model
    def _new_codes(self, count):
        """``count`` fresh codes, unique among member and store codes (one query)."""
        codes = set()
        while len(codes) < count:
            batch = {referral.new_code() for _i in range(count - len(codes))} - codes
            if not batch:
                continue
            self.env.cr.execute(
                SQL(
                    "SELECT code FROM points_referral_node WHERE code IN %s "
                    "UNION SELECT points_store_code FROM res_partner "
                    "WHERE points_store_code IN %s",
                    tuple(batch),
                    tuple(batch),
                )
            )
            codes |= batch - {row[0] for row in self.env.cr.fetchall()}
        return list(codes)

    # ------------------------------------------------------------------
    # tree reads: constant number of queries whatever the depth or size
    # ------------------------------------------------------------------
    def _get_upline(self):
        """The referrers of this node, nearest first, read in one query.

        The ids come from ``parent_path`` itself; reading them is one
        ``SELECT ... WHERE id IN (...)`` for any depth.

        :return: ``points.referral.node`` recordset, nearest referrer first
        """
        self.ensure_one()
        upline = self.browse(referral.upline_ids(self.parent_path))
        upline.fetch(["partner_id", "rank_id", "member_id", "parent_path"])
        return upline

    def _get_downline_domain(self):
        self.ensure_one()
        return [
            ("parent_path", "=like", f"{self.parent_path}%"),
            ("id", "!=", self.id),
        ]

    def _get_downline(self, limit=None):
        """Every node below this one (one indexed prefix scan)."""
        return self.search(self._get_downline_domain(), limit=limit)

    def _get_team_stats(self):
        """Direct count, team size, own and team settled volume per node.

        :return: ``{node_id: {"direct", "team", "own", "team_volume"}}``, volumes
            in the currency's smallest unit; two queries for any number of nodes.
        """
        if not self.ids:
            return {}
        self.flush_model(["parent_path", "parent_id"])
        self.env["points.lot"].flush_model(["member_id", "state", "basis"])
        self.env.cr.execute(
            SQL(
                """
                SELECT n.id,
                       (SELECT count(*) FROM points_referral_node c
                         WHERE c.parent_id = n.id),
                       (SELECT count(*) FROM points_referral_node d
                         WHERE d.parent_path ~>=~ n.parent_path
                           AND d.parent_path ~<~ (n.parent_path || %s)
                           AND d.id <> n.id)
                  FROM points_referral_node n
                 WHERE n.id IN %s
                """,
                SUBTREE_END,
                tuple(self.ids),
            )
        )
        stats = {
            node_id: {"direct": direct, "team": team, "own": 0, "team_volume": 0}
            for node_id, direct, team in self.env.cr.fetchall()
        }
        self.env.cr.execute(
            SQL(
                """
                SELECT n.id, d.id = n.id, COALESCE(SUM(l.basis), 0),
                       MIN(c.decimal_places)
                  FROM points_referral_node n
                  JOIN points_referral_node d
                    ON d.parent_path ~>=~ n.parent_path
                   AND d.parent_path ~<~ (n.parent_path || %s)
                  JOIN points_lot l
                    ON l.member_id = d.member_id AND l.state IN %s
                  JOIN res_company co ON co.id = n.company_id
                  JOIN res_currency c ON c.id = co.currency_id
                 WHERE n.id IN %s
                 GROUP BY n.id, d.id = n.id
                """,
                SUBTREE_END,
                LOT_SETTLED,
                tuple(self.ids),
            )
        )
        for node_id, is_self, volume, digits in self.env.cr.fetchall():
            key = "own" if is_self else "team_volume"
            stats[node_id][key] = money.to_minor(volume, digits)
        return stats

    # ------------------------------------------------------------------
    # binding
    # ------------------------------------------------------------------
    @api.model
    def _resolve_code(self, code, company=None, create=False):
        """The referrer node (and store) a member or store code points to.

        Read-only unless ``create``: a public visit of a store's link never
        creates a pool or a membership; the binding does (``create=True``).

        :return: ``(node, store_partner)``; an empty node if the code is unknown,
            its pool inactive, or (without ``create``) the store's owner not
            enrolled yet
        """
        Node = self.sudo()
        Partner = self.env["res.partner"].sudo()
        code = referral.normalize_code(code)
        if not code:
            return Node, Partner
        node = Node.search([("code", "=", code)], limit=1)
        if node:
            return (node if node.pool_id.active else Node), Partner
        store = Partner.search(
            [("points_store_code", "=", code), ("is_points_store", "=", True)],
            limit=1,
        )
        owner = store.points_store_owner_id.commercial_partner_id
        if not owner:
            return Node, store
        company = store.company_id or company or self.env.company
        Pool = self.env["points.pool"].sudo()
        pool = Pool.search([("company_id", "=", company.id)], limit=1)
        if not pool and create:
            pool = Pool._get_company_pool(company)
        if not pool.active:
            return Node, store
        Member = self.env["points.member"].sudo()
        if create:
            member = Member._get_or_create(pool, owner)
        else:
            member = Member._find(pool, owner)
        return member.referral_node_id.sudo(), store

    @api.model
    def _bind_partner_by_code(self, partner, code, source, company=None):
        """Bind ``partner`` to the owner of ``code`` when it is not bound yet.

        Used by the automatic paths (link + signup, first order).  Invalid
        bindings (unknown code, self-referral, cycle, already bound) are
        skipped and logged, never raised: a signup or a sale must not fail
        because of a referral code.

        :return: the bound node, or an empty recordset
        """
        referrer, store = self._resolve_code(code, company, create=True)
        if not referrer or not partner:
            return self.browse()
        if company and referrer.company_id != company:
            _logger.info("Referral code %s belongs to another company: skipped", code)
            return self.browse()
        member = self.env["points.member"]._get_or_create(referrer.pool_id, partner)
        node = member.referral_node_id.sudo()
        if node._bind(
            referrer, "store" if store else source, store=store, strict=False
        ):
            return node
        return self.browse()

    def _bind(self, referrer, source, store=None, strict=True):
        """Bind this unbound node under ``referrer`` (first binding wins).

        :param referrer: ``points.referral.node`` of the referrer
        :param source: a key of :data:`BIND_SOURCE_SELECTION`
        :param store: the store partner whose QR was used, if any
        :param strict: raise :class:`UserError` on an invalid binding (ORM and
            RPC callers); automatic paths pass ``False`` and get ``False``
        :return: whether the node is now bound to ``referrer``
        """
        self.ensure_one()
        self._lock_nodes(referrer)
        error = self._get_binding_error(referrer)
        if not error and (self.parent_id or self.bind_source):
            error = _(
                "%(member)s is already bound to %(referrer)s. Bindings are locked; "
                "only a manager can re-assign them.",
                member=self.display_name,
                referrer=self.parent_id.display_name or _("no referrer"),
            )
        if error:
            if strict:
                raise UserError(error)
            _logger.info("Referral binding of node %s skipped: %s", self.id, error)
            return False
        self._write_binding(referrer, source, store=store)
        return True

    def _reassign(self, referrer, reason):
        """Move this node (and its downline) under ``referrer``; managers only.

        Points, wallets and commissions already booked are not touched: the
        new referrer earns only on events after the change.
        """
        self.ensure_one()
        if not is_manager(self.env):
            raise AccessError(_("Only a points pool manager can re-assign a referrer."))
        if not (reason or "").strip():
            raise UserError(_("Give a reason for re-assigning the referrer."))
        referrer = referrer.sudo()
        self._lock_nodes(referrer)
        if referrer:
            error = self._get_binding_error(referrer)
            if error:
                raise UserError(error)
        if referrer == self.parent_id:
            raise UserError(
                _(
                    "%(member)s is already bound to that referrer.",
                    member=self.display_name,
                )
            )
        self._write_binding(referrer, "manager", reason=reason)

    def _lock_nodes(self, referrer):
        """Lock this node, the referrer and the roots of both their trees.

        The node's row stops a concurrent double binding.  The roots stop two
        moves in the same trees from passing each other: X under Y while Y's
        root moves under X's team would otherwise lock disjoint rows and make
        a cycle, or leave a newcomer with a stale ``parent_path``.  Under
        REPEATABLE READ the second transaction then fails to serialize and is
        retried, and re-checks against the committed tree.
        """
        self.env.flush_all()
        roots = {
            ids[0]
            for ids in (referral.path_ids(node.parent_path) for node in self | referrer)
            if ids
        }
        ids = tuple(sorted({self.id, *referrer.ids, *roots}))
        self.env.cr.execute(
            SQL(
                "SELECT id FROM points_referral_node WHERE id IN %s ORDER BY id "
                "FOR NO KEY UPDATE",
                ids,
            )
        )
        self.invalidate_recordset(["parent_id", "parent_path"])
        referrer.invalidate_recordset(["parent_id", "parent_path"])

    def _get_binding_error(self, referrer):
        """Why ``self`` cannot be placed under ``referrer``; ``None`` if it can."""
        if referrer.company_id != self.company_id:
            return _("The referrer belongs to another company's programme.")
        if referrer == self or referrer.partner_id == self.partner_id:
            return _("A member cannot refer themselves.")
        if referral.creates_cycle(self.parent_path, referrer.parent_path):
            # bindings run as sudo: whether to name the members depends on
            # who asked (portal users see no names beyond their direct team)
            if self.env.user.share:
                return _(
                    "This code belongs to a member of your own team: binding to it "
                    "would make a referral cycle."
                )
            return _(
                "%(referrer)s is in the team of %(member)s: binding them would make "
                "a referral cycle.",
                referrer=referrer.display_name,
                member=self.display_name,
            )
        return None

    def _write_binding(self, referrer, source, store=None, reason=None):
        old = self.parent_id
        self.sudo().write(
            {
                "parent_id": referrer.id,
                "bind_date": fields.Datetime.now(),
                "bind_source": source,
                "bind_store_id": store.id if store else False,
            }
        )
        self.env["points.referral.log"].sudo().create(
            {
                "node_id": self.id,
                "kind": "reassign" if source == "manager" else "bind",
                "source": source,
                "old_parent_id": old.id,
                "new_parent_id": referrer.id,
                "store_id": store.id if store else False,
                "reason": reason,
            }
        )
        if source == "manager":
            self.member_id.sudo().message_post(
                body=_(
                    "Referrer changed from %(old)s to %(new)s by %(user)s. "
                    "Reason: %(reason)s",
                    old=old.display_name or _("none"),
                    new=referrer.display_name or _("none"),
                    user=self.env.user.name,
                    reason=reason,
                )
            )
        else:
            self.member_id.sudo().message_post(
                body=_(
                    "Bound to referrer %(referrer)s (%(how)s).",
                    referrer=referrer.display_name,
                    how=dict(
                        self._fields["bind_source"]._description_selection(self.env)
                    )[source],
                )
            )

    # ------------------------------------------------------------------
    # ranks
    # ------------------------------------------------------------------
    def _set_rank(self, rank, source, reason=None):
        """Give the nodes ``rank`` and log every change (audit list).

        Set-based for the rank job: one write and one batch of audit lines.  A
        manager's change is also posted in the member's chatter.
        """
        changed = self.filtered(lambda node: node.rank_id != rank)
        if not changed:
            return
        old_ranks = {node.id: node.rank_id.id for node in changed}
        changed.sudo().write({"rank_id": rank.id})
        self.env["points.referral.log"].sudo().create(
            [
                {
                    "node_id": node.id,
                    "kind": "rank",
                    "source": source,
                    "old_rank_id": old_ranks[node.id],
                    "new_rank_id": rank.id,
                    "reason": reason,
                }
                for node in changed
            ]
        )
        if source != "manager":
            return
        how = dict(
            self.env["points.referral.log"]
            ._fields["source"]
            ._description_selection(self.env)
        )[source]
        for node in changed:
            node.member_id.sudo().message_post(
                body=_(
                    "Rank changed from %(old)s to %(new)s (%(how)s).",
                    old=self.env["points.rank"].browse(old_ranks[node.id]).name
                    or _("none"),
                    new=rank.name or _("none"),
                    how=how,
                )
            )

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_open_downline(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Team of %(member)s", member=self.display_name),
            "res_model": "points.referral.node",
            "view_mode": "list,hierarchy,form",
            "domain": self._get_downline_domain(),
        }

    def action_open_direct(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Direct members of %(member)s", member=self.display_name),
            "res_model": "points.referral.node",
            "view_mode": "list,form",
            "domain": [("parent_id", "=", self.id)],
        }

    def action_open_reassign(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Re-assign referrer"),
            "res_model": "points.referral.reassign",
            "view_mode": "form",
            "target": "new",
            "context": {"default_node_id": self.id},
        }

    def action_reassign(self, referrer_id, reason):
        """Re-assign the referrer (RPC; managers). ``referrer_id`` is a node id or 0.

        :return: ``{"node_id", "referrer_id", "bind_source"}``
        """
        self.ensure_one()
        self._reassign(self.browse(referrer_id or []).exists(), reason)
        return {
            "node_id": self.id,
            "referrer_id": self.parent_id.id,
            "bind_source": self.bind_source,
        }

    # ------------------------------------------------------------------
    # rank job
    # ------------------------------------------------------------------
    @api.model
    def _cron_update_ranks(self):
        """Raise ranks earned by settled sales volume or package products.

        Set-based: one query per company computes every member's own volume,
        the volume of its whole downline (each settled lot is attributed to
        all ancestors through ``parent_path``) and the highest package rank it
        bought; the pure core decides.  Ranks are never lowered by the job.
        """
        Rank = self.env["points.rank"].sudo()
        companies = Rank._read_group([], ["company_id"])
        for (company,) in companies:
            ranks = Rank.search([("company_id", "=", company.id)])
            digits = company.currency_id.decimal_places
            rules = [
                referral.RankRule(
                    rank.id,
                    rank.level,
                    money.to_minor(rank.min_own_volume, digits)
                    if rank.use_own_volume
                    else None,
                    money.to_minor(rank.min_team_volume, digits)
                    if rank.use_team_volume
                    else None,
                )
                for rank in ranks
            ]
            changes = {}
            for node_id, own, team, level, package in self._get_rank_inputs(company):
                own, team = money.to_minor(own, digits), money.to_minor(team, digits)
                rule = referral.earned_rank(
                    rules, own, team, current_level=level, package_level=package
                )
                if rule:
                    source = "volume" if rule.holds(own, team) else "package"
                    changes.setdefault((rule.rank_id, source), []).append(node_id)
            for (rank_id, source), node_ids in changes.items():
                self.sudo().browse(node_ids)._set_rank(Rank.browse(rank_id), source)

    @api.model
    def _get_rank_inputs(self, company):
        """``(node_id, own volume, team volume, current level, package level)``
        of every node of ``company`` with any settled sale in its subtree."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                WITH own AS (
                    SELECT n.id AS node_id, SUM(l.basis) AS vol
                      FROM points_referral_node n
                      JOIN points_lot l ON l.member_id = n.member_id
                       AND l.state IN %(states)s
                     WHERE n.company_id = %(company)s
                     GROUP BY n.id
                ), team AS (
                    SELECT a.anc::int AS node_id, SUM(own.vol) AS vol
                      FROM own
                      JOIN points_referral_node n ON n.id = own.node_id,
                   LATERAL unnest(string_to_array(rtrim(n.parent_path, '/'), '/'))
                           AS a(anc)
                     WHERE a.anc::int <> n.id
                     GROUP BY a.anc::int
                ), package AS (
                    SELECT n.id AS node_id, MAX(r.level) AS level
                      FROM points_referral_node n
                      JOIN points_lot l ON l.member_id = n.member_id
                       AND l.state IN %(states)s AND l.basis > 0
                     CROSS JOIN LATERAL jsonb_object_keys(COALESCE(l.units, '{}'::jsonb))
                           AS u(product)
                      JOIN points_rank_package_rel rel ON rel.product_id = u.product::int
                      JOIN points_rank r ON r.id = rel.rank_id AND r.active
                       AND r.company_id = %(company)s
                     WHERE n.company_id = %(company)s
                     GROUP BY n.id
                )
                SELECT n.id, COALESCE(own.vol, 0), COALESCE(team.vol, 0),
                       COALESCE(cr.level, 0), COALESCE(package.level, 0)
                  FROM points_referral_node n
                  LEFT JOIN own ON own.node_id = n.id
                  LEFT JOIN team ON team.node_id = n.id
                  LEFT JOIN package ON package.node_id = n.id
                  LEFT JOIN points_rank cr ON cr.id = n.rank_id
                 WHERE n.company_id = %(company)s
                   AND (own.vol IS NOT NULL OR team.vol IS NOT NULL
                        OR package.level IS NOT NULL)
                """,
                states=LOT_SETTLED,
                company=company.id,
            )
        )
        return self.env.cr.fetchall()
