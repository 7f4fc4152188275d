from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    points_credit = fields.Boolean(
        "Points credit",
        help="Pays with the customer's repurchase credit of the points programme "
        "(a member's credit from withdrawals).  No journal, customer identified: "
        "closing the session debits the customer's receivable, which the credit "
        "spent settles.",
    )

    @api.constrains("points_credit", "journal_id", "split_transactions")
    def _check_points_credit(self):
        for method in self:
            if method.points_credit and (
                method.journal_id or not method.split_transactions
            ):
                raise ValidationError(
                    _(
                        "The points credit payment method %s must have no journal and "
                        "identify the customer.",
                        method.name,
                    )
                )

    @api.onchange("points_credit")
    def _onchange_points_credit(self):
        if self.points_credit:
            self.journal_id = False
            self.split_transactions = True

    @api.model
    def _load_pos_data_fields(self, config_id):
        return super()._load_pos_data_fields(config_id) + ["points_credit"]
