"""18.0.1.1.0 adds the referral tree: every existing member gets its node."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(
        "SELECT m.id FROM points_member m "
        "LEFT JOIN points_referral_node n ON n.member_id = m.id WHERE n.id IS NULL"
    )
    member_ids = [row[0] for row in cr.fetchall()]
    env["points.referral.node"].create([{"member_id": mid} for mid in member_ids])
