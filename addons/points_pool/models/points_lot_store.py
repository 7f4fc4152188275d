"""The core's lot store over the ``points_lot`` table (used by the pool engine)."""

from fractions import Fraction

from odoo.tools import SQL

from ..core import money
from ..core.pool import POINT_DIGITS, Lot, LotStore


class SqlLotStore(LotStore):
    """Lot store over ``points_lot``: indexed reads, batched writes at the end."""

    COLUMNS = (
        "id, member_id, basis::text, inflow::text, cap::text, minted::text, held::text, "
        "locked::text, realized::text, paid::text, state, refunded_share"
    )

    def __init__(self, pool):
        self.pool = pool
        self.digits = pool.currency_id.decimal_places
        self.lots = {}
        self.records = {}
        self.dirty = set()

    def _load(self, rows):
        result = []
        d = self.digits
        for row in rows:
            lot_id = row[0]
            if lot_id in self.lots:
                result.append(self.lots[lot_id])
                continue
            lot = Lot(
                id=lot_id,
                member_id=row[1],
                basis=money.to_minor(row[2], d),
                inflow=money.to_minor(row[3], d),
                cap=money.to_minor(row[4], d),
                minted=money.to_minor(row[5], POINT_DIGITS),
                held=money.to_minor(row[6], POINT_DIGITS),
                locked=money.to_minor(row[7], POINT_DIGITS),
                realized=money.to_minor(row[8], d),
                paid=money.to_minor(row[9], d),
                state=row[10],
                refunded=Fraction(row[11] or 0),
            )
            self.lots[lot_id] = lot
            self.records[lot_id] = {"member_id": lot.member_id}
            result.append(lot)
        return result

    def _select(self, where):
        cr = self.pool.env.cr
        cr.execute(SQL("SELECT %s FROM points_lot WHERE %s", SQL(self.COLUMNS), where))
        return self._load(cr.fetchall())

    def preload(self, lot_ids):
        """Read many lots in one query (settlement and vesting batches)."""
        missing = tuple(lot_id for lot_id in lot_ids if lot_id not in self.lots)
        if missing:
            self._select(SQL("id IN %s", missing))

    def get(self, lot_id):
        if lot_id not in self.lots:
            self._select(SQL("id = %s", lot_id))
        return self.lots[lot_id]

    def member_lots(self, member_id):
        """Open lots of a member, oldest first."""
        return self._select(
            SQL(
                "member_id = %s AND state = 'open' ORDER BY settle_date, id",
                member_id,
            )
        )

    def due_lots(self, price, limit):
        self.flush()
        return self._select(
            SQL(
                "pool_id = %s AND state = 'open' AND trigger_price <= %s "
                "ORDER BY trigger_price, id LIMIT %s",
                self.pool.id,
                money.ceil_decimal(price),
                limit,
            )
        )

    def save(self, lot):
        self.lots[lot.id] = lot
        self.records.setdefault(lot.id, {"member_id": lot.member_id})
        self.dirty.add(lot.id)

    def flush(self):
        """Write changed lots with one UPDATE ... FROM (VALUES ...)."""
        if not self.dirty:
            return
        d = self.digits
        params = self.pool._get_params()
        values = []
        for lot_id in sorted(self.dirty):
            lot = self.lots[lot_id]
            trigger = lot.trigger(params)
            values.append(
                SQL(
                    "(%s, %s::numeric, %s::numeric, %s::numeric, %s::numeric, %s::numeric, "
                    "%s::numeric, %s::numeric, %s::numeric, %s, %s::numeric, %s, %s::numeric)",
                    lot.id,
                    money.to_decimal(lot.basis, d),
                    money.to_decimal(lot.inflow, d),
                    money.to_decimal(lot.cap, d),
                    money.to_decimal(lot.minted, POINT_DIGITS),
                    money.to_decimal(lot.held, POINT_DIGITS),
                    money.to_decimal(lot.locked, POINT_DIGITS),
                    money.to_decimal(lot.realized, d),
                    money.to_decimal(lot.paid, d),
                    lot.state,
                    money.ceil_decimal(trigger) if trigger is not None else None,
                    str(lot.refunded) if lot.refunded else None,
                    money.ceil_decimal(lot.refunded * 100, 6) if lot.refunded else 0,
                )
            )
        self.pool.env.cr.execute(
            SQL(
                "UPDATE points_lot AS l SET basis = v.basis, inflow = v.inflow, cap = v.cap, "
                "minted = v.minted, held = v.held, locked = v.locked, realized = v.realized, "
                "paid = v.paid, state = v.state, trigger_price = v.trigger_price, "
                "refunded_share = v.refunded_share, refunded_percent = v.refunded_percent, "
                "write_date = now() at time zone 'UTC', write_uid = %s "
                "FROM (VALUES %s) AS v(id, basis, inflow, cap, minted, held, locked, realized, "
                "paid, state, trigger_price, refunded_share, refunded_percent) WHERE l.id = v.id",
                self.pool.env.uid,
                SQL(", ").join(values),
            )
        )
        self.pool.env["points.lot"].invalidate_model()
        self.dirty.clear()
