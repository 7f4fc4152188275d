"""Member portal: ``/my/points`` (position, sell, wallet, team, paying open
invoices with repurchase credit).

Every route re-checks that the member (or withdrawal, or invoice) belongs to
the logged-in user's commercial partner *and* is readable through the record
rules before calling any model method; anything else is a 404 and changes
nothing.
"""

import re
import secrets
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.tools.misc import format_date, formatLang

from odoo.addons.account.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..core import money
from ..models.points_pool import run_apart

#: ledger lines per portal page
LEDGER_STEP = 20
#: session key of the last sell confirmation shown: its one-time token, bound
#: to the member and to the exact points quoted (``{"token", "member_id",
#: "points"}``)
SELL_TOKEN_KEY = "points_pool_sell_token"
#: plain decimal numbers only (no exponent, no "nan"): bounded work to parse
_NUMBER_RE = re.compile(r"^[+-]?(\d{1,15}(\.\d{0,12})?|\.\d{1,12})$")
#: the one-time token of a "pay with credit" form (``secrets.token_urlsafe``)
_PAY_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: open invoices listed on the overview as payable with credit
PAY_INVOICES_LIMIT = 20
#: most ledger events the member page's price chart draws (evenly spaced)
CHART_POINTS = 150
#: the price chart's box in SVG units: width, height, then the margins left
#: (price axis), right (value axis), top and bottom (event axis)
CHART_BOX = (640, 220, 72, 88, 14, 40)


class PointsPortal(PortalAccount):
    """Extends the invoice portal (``PortalAccount``) too: the invoice page
    shows the "Pay with points credit" button and the payment's notice."""

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _points_members(self):
        """The logged-in user's memberships, read through the record rules."""
        user = request.env.user
        Member = request.env["points.member"].with_context(
            allowed_company_ids=user.company_ids.ids
        )
        if not Member.has_access("read"):
            return Member.browse()
        return Member.search(
            [("partner_id", "=", user.partner_id.commercial_partner_id.id)]
        )

    def _points_get_member(self, member_id):
        """The user's own member ``member_id`` (user env); 404 for anything else."""
        user = request.env.user
        member = (
            request.env["points.member"]
            .with_context(allowed_company_ids=user.company_ids.ids)
            .browse(member_id)
            .exists()
        )
        if not member:
            raise NotFound()
        try:
            member.check_access("read")
        except AccessError as error:
            raise NotFound() from error
        if member.sudo().partner_id != user.partner_id.commercial_partner_id:
            raise NotFound()
        return member

    def _points_get_withdrawal(self, withdrawal_id):
        """The user's own withdrawal ``withdrawal_id`` (user env); 404 otherwise."""
        user = request.env.user
        withdrawal = (
            request.env["points.withdrawal"]
            .with_context(allowed_company_ids=user.company_ids.ids)
            .browse(withdrawal_id)
            .exists()
        )
        if not withdrawal:
            raise NotFound()
        try:
            withdrawal.check_access("read")
        except AccessError as error:
            raise NotFound() from error
        self._points_get_member(withdrawal.sudo().member_id.id)
        return withdrawal

    @staticmethod
    def _points_read_number(value, message):
        """``value`` stripped if it is a plain decimal number, else ``UserError``."""
        text = (value or "").strip() if isinstance(value, str) else ""
        if not _NUMBER_RE.match(text):
            raise UserError(message)
        return text

    def _points_read_points(self, value):
        return self._points_read_number(
            value, _("The number of points must be a number.")
        )

    def _points_read_amount(self, value, currency):
        text = self._points_read_number(value, _("The amount must be a number."))
        minor = money.round_minor(text, currency.decimal_places)
        if minor <= 0:
            raise UserError(_("The amount to withdraw must be positive."))
        return money.to_float(minor, currency.decimal_places)

    @staticmethod
    def _points_error(error):
        return error.args[0] if error.args else str(error)

    def _points_values(self, member, page_name, **values):
        """Rendering values shared by the member pages."""
        result = self._prepare_portal_layout_values()
        result.update(
            {
                "page_name": page_name,
                "member": member,
                "currency": member.currency_id,
                "position": member.get_position(),
                "points_digits": request.env["decimal.precision"].precision_get(
                    "Points"
                ),
                "price_digits": request.env["decimal.precision"].precision_get(
                    "Points Price"
                ),
                "multi_membership": len(self._points_members()) > 1,
            }
        )
        result.update(values)
        return result

    def _points_price_chart(self, member):
        """The member page's chart: the pool's price after each ledger event
        since the member's first one, and the value of the member's points at
        those events (points held then x that price), at most
        :data:`CHART_POINTS` evenly spaced events (ledger numbers are
        contiguous, so a sample is one indexed look-up per event).

        Reads only the pool's public price and the member's own lines (raw
        SQL on purpose: a portal user reads no other member's ledger lines).

        :return: SVG coordinates and axis labels, or ``False`` before the
            member's first journalized event
        """
        env = request.env
        cr = env.cr
        pool_id = member.sudo().pool_id.id
        env["points.pool.move"].flush_model()
        cr.execute(
            "SELECT number, COALESCE(points, 0) FROM points_pool_move "
            "WHERE pool_id = %s AND member_id = %s AND number > 0 ORDER BY number",
            [pool_id, member.id],
        )
        own = cr.fetchall()
        cr.execute(
            "SELECT MAX(number) FROM points_pool_move WHERE pool_id = %s", [pool_id]
        )
        last = cr.fetchone()[0]
        if not own or not last:
            return False
        first = own[0][0]
        span = last - first
        if span < CHART_POINTS:
            numbers = list(range(first, last + 1))
        else:  # evenly spaced, first and last included (distinct: span >= points)
            numbers = [
                first + round(index * span / (CHART_POINTS - 1))
                for index in range(CHART_POINTS)
            ]
        cr.execute(
            "SELECT number, date, COALESCE(price_after, 0) FROM points_pool_move "
            "WHERE pool_id = %s AND number = ANY(%s) ORDER BY number",
            [pool_id, numbers],
        )
        events = cr.fetchall()
        if not events:
            return False
        # points held after each sampled event: the member's deltas up to it
        currency = member.currency_id
        digits = env["decimal.precision"].precision_get("Points")
        held, index, values = 0.0, 0, []
        for number, _date, price in events:
            while index < len(own) and own[index][0] <= number:
                held += own[index][1]
                index += 1
            values.append(currency.round(round(held, digits) * price))
        prices = [price for _number, _date, price in events]
        width, height, left, right, top, bottom = CHART_BOX
        plot_width, plot_height = width - left - right, height - top - bottom
        first_number, last_number = events[0][0], events[-1][0]

        def x_of(number):
            if last_number == first_number:
                return left + plot_width / 2
            return left + (number - first_number) * plot_width / (
                last_number - first_number
            )

        def polyline(series):
            low, high = min(series), max(series)
            coords = []
            for (number, _date, _price), value in zip(events, series, strict=True):
                share = (value - low) / (high - low) if high > low else 0.5
                y = top + plot_height * (1 - share)
                coords.append(f"{x_of(number):.1f},{y:.1f}")
            return " ".join(coords)

        price_digits = env["decimal.precision"].precision_get("Points Price")

        def price_label(price):
            return formatLang(env, price, digits=price_digits)

        def value_label(value):
            return formatLang(env, value, currency_obj=currency)

        return {
            "width": width,
            "height": height,
            "left": left,
            "right": width - right,
            "top": top,
            "bottom": height - bottom,
            "count": len(events),
            "price_points": polyline(prices),
            "value_points": polyline(values),
            "price_high": price_label(max(prices)),
            "price_low": price_label(min(prices)),
            "value_high": value_label(max(values)),
            "value_low": value_label(min(values)),
            "first_event": f"#{first_number}",
            "last_event": f"#{last_number}",
            "first_date": format_date(env, events[0][1]),
            "last_date": format_date(env, events[-1][1]),
            "price_now": price_label(prices[-1]),
            "value_now": value_label(values[-1]),
        }

    def _points_ledger_domain(self, member):
        return [("member_id", "=", member.id)]

    # ------------------------------------------------------------------
    # portal home
    # ------------------------------------------------------------------
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "points_count" in counters:
            values["points_count"] = len(self._points_members())
        return values

    # ------------------------------------------------------------------
    # memberships
    # ------------------------------------------------------------------
    def _points_join_pool(self):
        """The active pool the user may join from the portal, if any."""
        company = request.env.user.company_id
        return (
            request.env["points.pool"]
            .sudo()
            .search([("company_id", "=", company.id), ("active", "=", True)], limit=1)
        )

    @http.route("/my/points", type="http", auth="user", website=True, methods=["GET"])
    def points_home(self, **kwargs):
        members = self._points_members()
        if len(members) == 1:
            return request.redirect(f"/my/points/{members.id}")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "points",
                "members": members,
                "can_join": not members and bool(self._points_join_pool()),
            }
        )
        return request.render("points_pool.portal_my_points", values)

    @http.route(
        "/my/points/join", type="http", auth="user", website=True, methods=["POST"]
    )
    def points_join(self, **kwargs):
        if not self._points_members() and self._points_join_pool():
            request.env.user.sudo()._points_pool_enroll(None)
        return request.redirect("/my/points")

    # ------------------------------------------------------------------
    # overview and ledger
    # ------------------------------------------------------------------
    @http.route(
        "/my/points/<int:member_id>",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def points_member(self, member_id, sold=None, **kwargs):
        member = self._points_get_member(member_id)
        Move = request.env["points.pool.move"]
        sold_line = Move.browse()
        if sold and str(sold).isdigit():
            sold_line = Move.search(
                [
                    ("id", "=", int(sold)),
                    ("member_id", "=", member.id),
                    ("kind", "=", "sell"),
                ]
            )
        values = self._points_values(
            member,
            "points_member",
            info=member.get_referral_info(),
            lines=Move.search(self._points_ledger_domain(member), limit=5),
            sold_line=sold_line,
            pay_invoices=self._points_payable_invoices(member),
            price_chart=self._points_price_chart(member),
        )
        return request.render("points_pool.portal_points_member", values)

    @http.route(
        [
            "/my/points/<int:member_id>/ledger",
            "/my/points/<int:member_id>/ledger/page/<int:page>",
        ],
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def points_ledger(self, member_id, page=1, **kwargs):
        member = self._points_get_member(member_id)
        Move = request.env["points.pool.move"]
        domain = self._points_ledger_domain(member)
        pager = portal_pager(
            url=f"/my/points/{member.id}/ledger",
            total=Move.search_count(domain),
            page=page,
            step=LEDGER_STEP,
        )
        lines = Move.search(domain, limit=LEDGER_STEP, offset=pager["offset"])
        values = self._points_values(member, "points_ledger", lines=lines, pager=pager)
        return request.render("points_pool.portal_points_ledger", values)

    # ------------------------------------------------------------------
    # sell: form -> quote -> sale
    # ------------------------------------------------------------------
    def _points_render_sell(self, member, points="", error=None):
        values = self._points_values(member, "points_sell", points=points, error=error)
        return request.render("points_pool.portal_points_sell", values)

    @http.route(
        "/my/points/<int:member_id>/sell",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def points_sell(self, member_id, **kwargs):
        return self._points_render_sell(self._points_get_member(member_id))

    @http.route(
        "/my/points/<int:member_id>/sell/confirm",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def points_sell_confirm(self, member_id, points=None, **kwargs):
        member = self._points_get_member(member_id)
        try:
            text = self._points_read_points(points)
            quote = member.get_sell_quote(text)
        except (UserError, ValidationError) as error:
            return self._points_render_sell(
                member, points=points or "", error=self._points_error(error)
            )
        token = secrets.token_urlsafe(16)
        request.session[SELL_TOKEN_KEY] = {
            "token": token,
            "member_id": member.id,
            "points": text,
        }
        values = self._points_values(
            member, "points_sell", quote=quote, points=text, sell_token=token
        )
        return request.render("points_pool.portal_points_sell_confirm", values)

    def _points_sell_token_matches(self, expected, sell_token, member, points):
        """Whether ``sell_token`` confirms the quote of ``points`` for ``member``.

        :param expected: what the quote stored in the session (popped)
        """
        if not (
            isinstance(expected, dict)
            and isinstance(expected.get("token"), str)
            and isinstance(sell_token, str)
            and secrets.compare_digest(expected["token"].encode(), sell_token.encode())
        ):
            return False
        if expected.get("member_id") != member.id:
            return False
        try:
            posted = self._points_read_points(points)
        except UserError:
            return False
        return posted == expected.get("points")

    @http.route(
        "/my/points/<int:member_id>/sell/do",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def points_sell_do(self, member_id, points=None, sell_token=None, **kwargs):
        member = self._points_get_member(member_id)
        # spent by any attempt, valid or not: a token confirms one quote once
        expected = request.session.pop(SELL_TOKEN_KEY, None)
        if not self._points_sell_token_matches(expected, sell_token, member, points):
            # a second click, an old page, or other points than quoted: never
            # sell what was not confirmed, never sell twice
            return self._points_render_sell(
                member,
                points=points or "",
                error=_(
                    "This confirmation was already used or has expired. "
                    "Please check your points and confirm again."
                ),
            )
        try:
            with request.env.cr.savepoint():
                # the points of the quote the token confirms (== the posted ones);
                # a pool event of its own (README "Concurrency"): the result is
                # data, and the redirected page reads the committed sale
                result = member.action_sell(expected["points"])
        except (UserError, ValidationError) as error:
            request.env.invalidate_all()
            return self._points_render_sell(
                member, points=points or "", error=self._points_error(error)
            )
        return request.redirect(f"/my/points/{member.id}?sold={result['ledger_id']}")

    # ------------------------------------------------------------------
    # wallet and withdrawals
    # ------------------------------------------------------------------
    def _points_render_wallet(self, member, **values):
        withdrawals = request.env["points.withdrawal"].search(
            [("member_id", "=", member.id)]
        )
        values = self._points_values(
            member, "points_wallet", withdrawals=withdrawals, **values
        )
        return request.render("points_pool.portal_points_wallet", values)

    @http.route(
        "/my/points/<int:member_id>/wallet",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def points_wallet(self, member_id, requested=None, cancelled=None, **kwargs):
        member = self._points_get_member(member_id)
        Withdrawal = request.env["points.withdrawal"]
        notice = Withdrawal.browse()
        notice_id = requested or cancelled
        if notice_id and str(notice_id).isdigit():
            notice = Withdrawal.search(
                [("id", "=", int(notice_id)), ("member_id", "=", member.id)]
            )
        return self._points_render_wallet(
            member,
            requested_withdrawal=notice if requested else Withdrawal,
            cancelled_withdrawal=notice if cancelled else Withdrawal,
        )

    @http.route(
        "/my/points/<int:member_id>/withdraw",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def points_withdraw(self, member_id, amount=None, **kwargs):
        member = self._points_get_member(member_id)
        try:
            value = self._points_read_amount(amount, member.currency_id)
            with request.env.cr.savepoint():
                withdrawal = member._request_withdrawal(value)
        except (UserError, ValidationError) as error:
            request.env.invalidate_all()
            return self._points_render_wallet(
                member, amount=amount or "", error=self._points_error(error)
            )
        return request.redirect(
            f"/my/points/{member.id}/wallet?requested={withdrawal.id}"
        )

    @http.route(
        "/my/points/withdrawal/<int:withdrawal_id>/cancel",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def points_withdrawal_cancel(self, withdrawal_id, **kwargs):
        withdrawal = self._points_get_withdrawal(withdrawal_id)
        member = self._points_get_member(withdrawal.sudo().member_id.id)
        try:
            with request.env.cr.savepoint():
                # ownership checked above; portal users have no write access
                withdrawal.sudo().action_cancel()
        except (UserError, ValidationError) as error:
            request.env.invalidate_all()
            return self._points_render_wallet(member, error=self._points_error(error))
        return request.redirect(
            f"/my/points/{member.id}/wallet?cancelled={withdrawal.id}"
        )

    # ------------------------------------------------------------------
    # team
    # ------------------------------------------------------------------
    def _points_render_team(self, member, **values):
        values = self._points_values(
            member, "points_team", info=member.get_referral_info(), **values
        )
        return request.render("points_pool.portal_points_team", values)

    @http.route(
        "/my/points/<int:member_id>/team",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def points_team(self, member_id, bound=None, **kwargs):
        member = self._points_get_member(member_id)
        return self._points_render_team(member, bound=bool(bound))

    @http.route(
        "/my/points/<int:member_id>/referrer",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def points_bind_referrer(self, member_id, code=None, **kwargs):
        member = self._points_get_member(member_id)
        code = (code or "").strip()[:64]
        try:
            if not code:
                raise UserError(
                    _("Enter the referral code of the person who invited you.")
                )
            with request.env.cr.savepoint():
                member.action_bind_referrer(code)
        except (UserError, ValidationError) as error:
            request.env.invalidate_all()
            return self._points_render_team(
                member, code=code, error=self._points_error(error)
            )
        return request.redirect(f"/my/points/{member.id}/team?bound=1")

    # ------------------------------------------------------------------
    # pay an open invoice with repurchase credit
    # ------------------------------------------------------------------
    def _points_payable_invoices(self, member):
        """The member's open invoices that credit can pay (user env: read
        through the record rules), or none while the member holds no credit."""
        Move = request.env["account.move"].with_context(
            allowed_company_ids=request.env.user.company_ids.ids
        )
        if member.currency_id.compare_amounts(
            member.credit_balance, 0
        ) <= 0 or not Move.has_access("read"):
            return Move.browse()
        invoices = Move.search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("commercial_partner_id", "=", member.sudo().partner_id.id),
                ("company_id", "=", member.company_id.id),
                ("currency_id", "=", member.currency_id.id),
            ],
            order="invoice_date_due, id",
            limit=PAY_INVOICES_LIMIT,
        )
        return invoices.filtered("points_can_pay")

    def _points_invoice_member(self, invoice):
        """The logged-in user's membership (sudo) that may pay ``invoice`` (a
        sudo record) with credit: the invoice is a customer invoice of the
        user's own commercial partner in the pool's currency.  Empty otherwise.
        Reads only (no pool is created here)."""
        Member = request.env["points.member"].sudo()
        user = request.env.user
        partner = user.partner_id.commercial_partner_id
        if (
            user._is_public()
            or invoice.move_type != "out_invoice"
            or invoice.commercial_partner_id != partner
        ):
            return Member.browse()
        pool = (
            request.env["points.pool"]
            .sudo()
            .search([("company_id", "=", invoice.company_id.id)], limit=1)
        )
        if not pool or invoice.currency_id != pool.currency_id:
            return Member.browse()
        return Member._find(pool, partner)

    def _points_get_pay_invoice(self, invoice_id, access_token=None):
        """``(invoice sudo, member)`` for the user's own invoice ``invoice_id``
        and the membership that pays it (user env); 404 for anything else."""
        try:
            invoice = self._document_check_access(
                "account.move", invoice_id, access_token
            )
        except (AccessError, MissingError) as error:
            raise NotFound() from error
        member = self._points_invoice_member(invoice)
        if not member:
            raise NotFound()
        # the same checks as every member page (record rules, company)
        return invoice, self._points_get_member(member.id)

    def _invoice_get_page_view_values(self, invoice, access_token, **kwargs):
        """The invoice page: the "Pay with points credit" button (own open
        invoice, credit held) and the notice of a payment just made."""
        values = super()._invoice_get_page_view_values(invoice, access_token, **kwargs)
        member = self._points_invoice_member(invoice)
        pay_url = False
        paid_line = request.env["points.pool.move"]
        if member:
            if (
                invoice.points_can_pay
                and member.currency_id.compare_amounts(member.credit_balance, 0) > 0
            ):
                pay_url = f"/my/points/pay/{invoice.id}"
                if access_token:
                    pay_url += "?" + urlencode({"access_token": access_token})
            paid = kwargs.get("points_paid")
            if paid and str(paid).isdigit():
                paid_line = paid_line.sudo().search(
                    [
                        ("id", "=", int(paid)),
                        ("kind", "=", "spend"),
                        ("member_id", "=", member.id),
                        ("res_model", "=", "account.move"),
                        ("res_id", "=", invoice.id),
                    ]
                )
        values.update(
            {
                "points_pay_url": pay_url,
                "points_paid_line": paid_line,
                "points_member": member,
            }
        )
        return values

    def _points_render_pay(self, invoice, member, access_token=None, **values):
        """The confirmation page: amount due, credit held, amount to pay
        (default: as much as both allow) and what is left to pay after it."""
        currency = member.currency_id
        digits = currency.decimal_places
        residual = invoice.amount_residual
        credit = member.credit_balance
        # in minor units: what is left to pay is exact
        residual_minor = money.round_minor(residual, digits)
        credit_minor = money.round_minor(credit, digits)
        can_pay = invoice.points_can_pay and credit_minor > 0 and residual_minor > 0
        default = min(credit_minor, residual_minor) if can_pay else 0
        amount = values.pop("amount", None)
        if amount is None:
            amount = str(money.to_decimal(default, digits))
        try:
            shown = money.round_minor(
                self._points_read_number(amount, "not a number"), digits
            )
        except UserError:
            shown = default
        if shown <= 0 or shown > residual_minor:
            shown = default
        values = self._points_values(
            member,
            "points_pay",
            invoice=invoice,
            invoice_url=f"/my/invoices/{invoice.id}",
            access_token=access_token or "",
            residual=residual,
            credit=credit,
            can_pay=can_pay,
            amount=amount,
            left_to_pay=money.to_float(residual_minor - shown, digits),
            pay_token=values.pop("pay_token", None) or secrets.token_urlsafe(16),
            **values,
        )
        return request.render("points_pool.portal_points_pay", values)

    @http.route(
        "/my/points/pay/<int:invoice_id>",
        type="http",
        auth="user",
        website=True,
        methods=["GET"],
    )
    def points_pay(self, invoice_id, access_token=None, **kwargs):
        invoice, member = self._points_get_pay_invoice(invoice_id, access_token)
        return self._points_render_pay(invoice, member, access_token)

    @http.route(
        "/my/points/pay/<int:invoice_id>/confirm",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def points_pay_confirm(
        self, invoice_id, amount=None, pay_token=None, access_token=None, **kwargs
    ):
        invoice, member = self._points_get_pay_invoice(invoice_id, access_token)
        if not (isinstance(pay_token, str) and _PAY_TOKEN_RE.match(pay_token)):
            return self._points_render_pay(
                invoice,
                member,
                access_token,
                amount=amount if isinstance(amount, str) else "",
                error=_(
                    "This form has expired. Please check the amount and confirm again."
                ),
            )
        try:
            text = self._points_read_number(amount, _("The amount must be a number."))
            with request.env.cr.savepoint():
                # ownership checked above; one pool event of its own (README
                # "Concurrency"); the form's token makes a second submit of
                # the same form return the first payment instead of paying again
                # (as the portal user, sudo: the key and the chatter note are
                # theirs; the invoice came back from the check as superuser)
                result = run_apart(
                    request.env["account.move"].sudo().browse(invoice.id),
                    "_points_pay_result",
                    text,
                    "credit",
                    f"portal.points_pay:{invoice.id}:{pay_token}",
                )
        except (UserError, ValidationError) as error:
            request.env.invalidate_all()
            # nothing was paid: the same token may confirm the corrected form
            return self._points_render_pay(
                invoice,
                member,
                access_token,
                amount=amount if isinstance(amount, str) else "",
                pay_token=pay_token,
                error=self._points_error(error),
            )
        query = {"points_paid": result["ledger_id"]}
        if access_token:
            query["access_token"] = access_token
        return request.redirect(f"/my/invoices/{invoice.id}?{urlencode(query)}")
