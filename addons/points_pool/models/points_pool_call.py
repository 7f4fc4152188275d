from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

#: how long a key is remembered: a client retries within seconds or minutes
KEEP_DAYS = 90


class PointsPoolCall(models.Model):
    """One documented API call made with an idempotency key (SPEC 2, Retries).

    A client that times out and sends the same call again with the same key
    gets the first call's result, and nothing is booked twice.  Keys belong
    to the user who sent them: another user's key is simply another key.
    Written only by ``points.pool._call_once`` (as superuser); immutable.
    """

    _name = "points.pool.call"
    _description = "Points Pool API Call"
    _order = "id desc"
    _rec_name = "key"

    key = fields.Char("Idempotency key", required=True, readonly=True)
    method = fields.Char(required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    result = fields.Text(readonly=True, help="The first call's result (JSON).")

    _sql_constraints = [
        (
            "user_key_unique",
            "UNIQUE(user_id, key)",
            "This idempotency key was already used.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise UserError(_("API calls are recorded by the pool itself."))
        return super().create(vals_list)

    def write(self, vals):
        if vals:
            raise UserError(_("Recorded API calls are immutable."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        raise UserError(_("Recorded API calls are immutable."))

    @api.model
    def _cron_forget(self, days=KEEP_DAYS):
        """Daily: forget the keys of calls older than ``days`` (the table would
        otherwise grow by one row per keyed call, forever).

        :return: number of keys forgotten
        """
        self.env.cr.execute(
            SQL(
                "DELETE FROM points_pool_call WHERE create_date < "
                "(now() AT TIME ZONE 'UTC') - make_interval(days => %s)",
                int(days),
            )
        )
        self.invalidate_model()
        return self.env.cr.rowcount
