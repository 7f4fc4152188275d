"""The pool's scheduled jobs: settlement, the refund queue, vesting release
and the nightly reconciliation (``ir_cron_data.xml``)."""

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..core.pool import LOT_OPEN, LOT_PENDING


class PointsPool(models.Model):
    _inherit = "points.pool"

    # ------------------------------------------------------------------
    # settlement, vesting and reconciliation jobs
    # ------------------------------------------------------------------
    def _settle_due(self, now=None, limit=1000):
        """Refund what credit notes queued, then mint every pending lot whose
        return window closed, in batches (inline: tests, one-off calls).

        :return: number of lots minted
        """
        self.ensure_one()
        now = now or fields.Datetime.now()
        self._process_refund_queue()
        total = 0
        while True:
            minted, more = self._settle_batch(now, limit)
            total += minted
            if not more:
                return total

    def _settle_batch(self, now, limit=1000):
        """One settlement batch under one lock: lots in order of settlement
        time, then id; payments undone inside the window are cancelled.

        :return: ``(lots minted, whether more may be due)``
        """
        self.ensure_one()
        Lot = self.env["points.lot"].sudo()
        lots = Lot.search(
            [
                ("pool_id", "=", self.id),
                ("state", "=", LOT_PENDING),
                ("settle_date", "<=", now),
            ],
            order="settle_date, id",
            limit=limit,
        )
        if not lots:
            unnumbered = (
                self.env["points.pool.move"]
                .sudo()
                .search_count([("pool_id", "=", self.id), ("number", "=", 0)], limit=1)
            )
            if unnumbered:
                # nothing due: still journalize the pending lines of recent payments
                with self._operation(date=now):
                    pass
            return 0, False
        more = len(lots) == limit
        payable = lots.filtered(lambda lot: lot._is_still_paid())
        with self._operation(date=now) as engine:
            engine.store.preload(lots.ids)
            # read again under the lock: a credit note may have cancelled one
            pending = {
                lot.id for lot in lots if engine.store.get(lot.id).state == LOT_PENDING
            }
            payable = payable.filtered(lambda lot: lot.id in pending)
            for lot in (lots - payable).filtered(lambda lot: lot.id in pending):
                engine.refund(engine.store.get(lot.id), 1)
            for lot in payable:
                engine.mint(engine.store.get(lot.id))
        lots = lots.filtered(lambda lot: lot.id in pending)
        if lots - payable:
            # payment undone inside the window: the commissions go too
            self.env["points.commission.line"]._reverse_lots(
                lots - payable, 1, "unpaid"
            )
        return len(payable), more

    @api.model
    def _refund_queue_models(self):
        """The models whose documents queue a refund: they set
        ``points_refund_pending`` (and ``company_id``) and apply it with
        ``_points_pool_refund()``.  Credit notes here; every other order
        source adds its own (``pos_points_pool``: POS refunds)."""
        return ["account.move"]

    def _process_refund_queue(self, limit=200):
        """Apply the refunds queued for this pool's company and not applied yet
        (``points_refund_pending``), oldest first, source by source.

        Posting a credit note (or syncing a POS refund) only queues its refund
        (no pool lock inside that transaction); this applies it right after
        that commit and, should that fail, on the next settlement run.
        :return: ``{model: documents processed}``
        """
        self.ensure_one()
        processed = {}
        for model in self._refund_queue_models():
            documents = (
                self.env[model]
                .sudo()
                .search(
                    [
                        ("points_refund_pending", "=", True),
                        ("company_id", "=", self.company_id.id),
                    ],
                    order="id",
                    limit=limit,
                )
            )
            if documents:
                documents._points_pool_refund()
            processed[model] = documents
        return processed

    @api.model
    def _process_refund_queue_apart(self, pool_ids):
        """After a credit note's commit: apply its refund in an event of its own."""
        for pool in self.sudo().browse(pool_ids).exists():
            pool.with_company(pool.company_id)._run_apart(
                "_process_refund_queue_ids", force=True
            )

    def _process_refund_queue_ids(self):
        return {
            model: documents.ids
            for model, documents in self._process_refund_queue().items()
        }

    def _release_vesting(self):
        """Daily vesting release of every lot that still has locked units."""
        self.ensure_one()
        Lot = self.env["points.lot"].sudo()
        lots = Lot.search(
            [("pool_id", "=", self.id), ("state", "=", LOT_OPEN), ("locked", ">", 0)]
        )
        if not lots:
            return 0
        with self._operation() as engine:
            engine.store.preload(lots.ids)
            for lot in lots:
                engine.daily_release(engine.store.get(lot.id))
        return len(lots)

    @api.model
    def _cron_settle(self):
        """Hourly (and right after payment with a return window of 0): each
        batch is a pool event of its own, committed at once (README
        "Concurrency"), so a busy pool never makes the job fail."""
        now = fields.Datetime.now()
        for pool in self.sudo().search([("active", "=", True)]):
            pool = pool.with_company(pool.company_id)
            pool._run_apart("_process_refund_queue_ids", force=True)
            while pool._run_apart("_settle_batch", now, force=True)[1]:
                pass
            # entries a post-commit step did not get to (a worker killed)
            pool._run_apart("_post_unjournalized", force=True)

    @api.model
    def _cron_release(self):
        for pool in self.sudo().search([("vesting_rate", ">", 0)]):
            pool.with_company(pool.company_id)._run_apart(
                "_release_vesting", force=True
            )

    @api.model
    def _cron_check(self):
        """Daily reconciliation; posts an alert in the pool's chatter on a difference."""
        for pool in self.sudo().search([("active", "=", True)]):
            problems = pool.with_company(pool.company_id)._check_rows(
                only_problems=True
            )
            if problems:
                body = "; ".join(
                    f"{row['label']}: {row['expected']} / {row['actual']}"
                    for row in problems
                )
                pool.message_post(body=_("Reconciliation differences: %s", body))

    def _trigger_settlement(self):
        """Run the settlement job soon (return window 0 mints right after payment).

        What ``ir.cron._trigger`` does, in one insert: the checkout path.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "points_pool.points_pool_cron_settle"
        )
        self.env.cr.execute(
            SQL(
                "INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, "
                "write_uid, write_date) VALUES (%s, now() AT TIME ZONE 'UTC', %s, "
                "now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC')",
                cron_id,
                self.env.uid,
                self.env.uid,
            )
        )
        self.env.cr.postcommit.add(self.env["ir.cron"]._notifydb)
