from datetime import datetime, time, timedelta

import pytz

from odoo import fields, models

from ..tools import schedule


class ResCompany(models.Model):
    _inherit = "res.company"

    installment_working_day_policy = fields.Selection(
        [
            ("keep", "Keep the date"),
            ("next", "Move to the next working day"),
            ("previous", "Move to the previous working day"),
        ],
        string="Installment Due Dates on Non-Working Days",
        default="next",
        required=True,
        help="What happens to an installment due date that falls on a weekend day "
        "or a public holiday of the company's working calendar.",
    )

    def _installment_working_day_predicate(self, date_from, date_to):
        """A ``date -> bool`` telling whether the company works that day.

        Weekdays come from the working calendar's attendances, public holidays
        from its global leaves; both are read once for the whole range so the
        predicate itself runs no query.
        """
        self.ensure_one()
        calendar = self.resource_calendar_id
        if not calendar:
            return lambda day: True
        worked_weekdays = {int(d) for d in calendar.attendance_ids.mapped("dayofweek")}
        tz = pytz.timezone(calendar.tz or "UTC")
        margin = timedelta(days=400)  # room for shifts past the last date
        start = tz.localize(datetime.combine(date_from - margin, time.min))
        end = tz.localize(datetime.combine(date_to + margin, time.max))
        leaves = self.env["resource.calendar.leaves"].search(
            [
                ("resource_id", "=", False),
                ("calendar_id", "in", [calendar.id, False]),
                ("company_id", "in", [self.id, False]),
                ("date_from", "<=", end.astimezone(pytz.utc).replace(tzinfo=None)),
                ("date_to", ">=", start.astimezone(pytz.utc).replace(tzinfo=None)),
            ]
        )
        holidays = set()
        for leave in leaves:
            day = pytz.utc.localize(leave.date_from).astimezone(tz).date()
            last = pytz.utc.localize(leave.date_to).astimezone(tz).date()
            while day <= last:
                holidays.add(day)
                day += timedelta(days=1)
        if not worked_weekdays:
            return lambda day: day not in holidays
        return lambda day: day.weekday() in worked_weekdays and day not in holidays

    def _installment_shift_dates(self, dates):
        """Apply the company's working-day policy to ``dates`` (order kept)."""
        self.ensure_one()
        if not dates or self.installment_working_day_policy == "keep":
            return list(dates)
        predicate = self._installment_working_day_predicate(min(dates), max(dates))
        return schedule.shift_dates(
            dates, self.installment_working_day_policy, predicate
        )
