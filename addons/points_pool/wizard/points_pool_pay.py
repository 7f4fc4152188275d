from odoo import _, api, fields, models
from odoo.exceptions import UserError


class PointsPoolPay(models.TransientModel):
    """Pay a customer invoice with the member's repurchase credit (or wallet
    money): shows what the member holds and what is left to pay afterwards."""

    _name = "points.pool.pay"
    _description = "Pay with Points Credit"

    invoice_id = fields.Many2one("account.move", required=True, readonly=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    partner_id = fields.Many2one(related="invoice_id.commercial_partner_id")
    member_id = fields.Many2one("points.member", compute="_compute_member")
    wallet_allowed = fields.Boolean(compute="_compute_member")
    fund = fields.Selection(
        [("credit", "Repurchase credit"), ("wallet", "Wallet")],
        default="credit",
        required=True,
    )
    available = fields.Monetary(compute="_compute_member")
    residual = fields.Monetary(related="invoice_id.amount_residual")
    amount = fields.Monetary(required=True)
    left_to_pay = fields.Monetary(compute="_compute_left_to_pay")

    @api.depends("invoice_id", "fund")
    def _compute_member(self):
        for wizard in self:
            invoice = wizard.invoice_id.sudo()
            pool = self.env["points.pool"].sudo()._get_company_pool(invoice.company_id)
            member = (
                self.env["points.member"]
                .sudo()
                .search(
                    [
                        ("pool_id", "=", pool.id),
                        ("partner_id", "=", invoice.commercial_partner_id.id),
                    ],
                    limit=1,
                )
            )
            wizard.member_id = member
            wizard.wallet_allowed = pool.wallet_payments
            wizard.available = (
                member.wallet_available
                if wizard.fund == "wallet"
                else member.credit_balance
            )

    @api.depends("amount", "residual")
    def _compute_left_to_pay(self):
        for wizard in self:
            wizard.left_to_pay = wizard.residual - max(wizard.amount, 0.0)

    @api.onchange("fund")
    def _onchange_fund(self):
        self.amount = min(self.available, self.residual)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        invoice = self.env["account.move"].browse(
            values.get("invoice_id") or self.env.context.get("active_id")
        )
        if invoice:
            values["invoice_id"] = invoice.id
            wizard = self.new({"invoice_id": invoice.id, "fund": "credit"})
            values["amount"] = min(wizard.available, invoice.amount_residual)
        return values

    def action_pay(self):
        self.ensure_one()
        if not self.member_id:
            raise UserError(
                _(
                    "%s is not a member of the points programme.",
                    self.partner_id.display_name,
                )
            )
        self.invoice_id.action_points_pay(self.amount, self.fund)
        return {"type": "ir.actions.act_window_close"}
