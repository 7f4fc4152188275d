"""Repurchase credit outstanding by member and age of the grant (issue 11).

The contract liability of repurchase credit, one row per grant (a ledger line
that gives credit: an approved withdrawal's credit share).  What members used
(spends net of what refunds gave back) consumes the oldest grants first
(FIFO): a grant's outstanding part is its cumulative total up to it (grants
in date order) less all the credit used, clamped to ``[0, grant]``.  The
outstanding parts of a member's grants add up to the member's credit balance,
so the report's total is the reconciliation's "GL repurchase credit".
"""

from odoo import fields, models
from odoo.tools import SQL

AGE_BUCKETS = [
    ("1_0_30", "0-30 days"),
    ("2_31_90", "31-90 days"),
    ("3_91_180", "91-180 days"),
    ("4_181_365", "181-365 days"),
    ("5_over_365", "Over 365 days"),
]


class PointsCreditAging(models.Model):
    _name = "points.credit.aging"
    _description = "Repurchase Credit Outstanding by Age"
    _auto = False
    _order = "grant_date, id"
    _rec_name = "grant_line_id"

    company_id = fields.Many2one("res.company", readonly=True)
    pool_id = fields.Many2one("points.pool", readonly=True)
    member_id = fields.Many2one("points.member", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    grant_date = fields.Date(readonly=True)
    grant_line_id = fields.Many2one(
        "points.pool.move", "Grant line", readonly=True, help="The ledger line."
    )
    withdrawal_id = fields.Many2one("points.withdrawal", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_granted = fields.Monetary("Granted", readonly=True)
    amount_outstanding = fields.Monetary(
        "Outstanding",
        readonly=True,
        help="What is left of this grant once the credit used (net of refunds) "
        "has consumed the oldest grants first.",
    )
    age_days = fields.Integer("Age (days)", readonly=True, aggregator="max")
    age_bucket = fields.Selection(AGE_BUCKETS, "Age", readonly=True)

    @property
    def _table_query(self):
        """One row per grant, aged when read (UTC days, as the ledger's dates).

        A query, not a stored view: the ledger and member tables are created
        after this model on install; read, it is the subquery of the table.
        """
        return SQL(
            """
            WITH lines AS (
                SELECT l.id, l.member_id, l.withdrawal_id, l.credit, l.date,
                       l.credit > 0 AND l.kind != 'spend_refund' AS is_grant
                  FROM points_pool_move l
                 WHERE l.credit != 0 AND l.member_id IS NOT NULL
            ), used AS (
                -- credit used net of returns: all but the grants, sign flipped
                SELECT member_id, -SUM(credit) FILTER (WHERE NOT is_grant) AS used
                  FROM lines
                 GROUP BY member_id
            ), grants AS (
                SELECT id, member_id, withdrawal_id, credit, date,
                       SUM(credit) OVER (
                           PARTITION BY member_id ORDER BY date, id
                           ROWS UNBOUNDED PRECEDING
                       ) AS cumulative
                  FROM lines
                 WHERE is_grant
            )
            SELECT g.id AS id,
                   m.company_id AS company_id,
                   m.pool_id AS pool_id,
                   g.member_id AS member_id,
                   m.partner_id AS partner_id,
                   g.date::date AS grant_date,
                   g.id AS grant_line_id,
                   g.withdrawal_id AS withdrawal_id,
                   c.currency_id AS currency_id,
                   g.credit AS amount_granted,
                   GREATEST(
                       LEAST(g.cumulative - COALESCE(u.used, 0), g.credit), 0
                   ) AS amount_outstanding,
                   t.today - g.date::date AS age_days,
                   CASE
                       WHEN t.today - g.date::date <= 30 THEN '1_0_30'
                       WHEN t.today - g.date::date <= 90 THEN '2_31_90'
                       WHEN t.today - g.date::date <= 180 THEN '3_91_180'
                       WHEN t.today - g.date::date <= 365 THEN '4_181_365'
                       ELSE '5_over_365'
                   END AS age_bucket
              FROM grants g
              JOIN points_member m ON m.id = g.member_id
              JOIN res_company c ON c.id = m.company_id
              LEFT JOIN used u ON u.member_id = g.member_id
             CROSS JOIN (SELECT (now() AT TIME ZONE 'UTC')::date AS today) t
            """
        )
