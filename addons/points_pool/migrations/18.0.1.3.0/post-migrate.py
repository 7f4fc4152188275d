"""18.0.1.3.0: withdrawal requests reserve the wallet, lots remember the share
of their order refunded so far (refunds are shares of the original order).

- ``points_member.wallet_reserved`` = the member's requested withdrawals;
- ``points_lot.refunded_share`` = Σ over the credit notes that refunded the lot
  of (credit note untaxed / invoice untaxed), capped at 1.
"""

from fractions import Fraction


def migrate(cr, version):
    cr.execute(
        """
        UPDATE points_member m SET wallet_reserved = COALESCE(r.amount, 0)
          FROM (SELECT member_id, SUM(amount) AS amount FROM points_withdrawal
                 WHERE state = 'requested' GROUP BY member_id) r
         WHERE r.member_id = m.id
        """
    )
    cr.execute(
        """
        SELECT l.move_lot, ABS(cn.amount_untaxed_signed)::text,
               ABS(inv.amount_untaxed_signed)::text
          FROM (SELECT DISTINCT lot_id AS move_lot, res_id
                  FROM points_pool_move
                 WHERE kind IN ('refund', 'pending_cancel') AND res_model = 'account.move'
                   AND lot_id IS NOT NULL) l
          JOIN account_move cn ON cn.id = l.res_id
          JOIN account_move inv ON inv.id = cn.reversed_entry_id
         WHERE inv.amount_untaxed_signed != 0
        """
    )
    shares = {}
    for lot_id, refunded, invoiced in cr.fetchall():
        share = shares.get(lot_id, Fraction(0)) + Fraction(refunded) / Fraction(
            invoiced
        )
        shares[lot_id] = min(share, Fraction(1))
    for lot_id, share in shares.items():
        cr.execute(
            "UPDATE points_lot SET refunded_share = %s, refunded_percent = %s WHERE id = %s",
            (str(share), float(share * 100), lot_id),
        )
