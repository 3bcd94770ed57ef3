"""The one schedule engine: pure date and amount arithmetic for installments.

No ORM, no ``env``: the installment wizard, the payment-term computation and the
plan rebalancing all call these functions, and property tests exercise them
directly. Amount functions take a ``round_fn`` (``currency.round``) so the
currency's precision decides the rounding; the last part always absorbs the
remainder so that the parts add up to the total exactly.
"""

import calendar
import itertools
import math
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

INTERVAL_UNITS = ("day", "week", "month")
WORKING_DAY_POLICIES = ("keep", "next", "previous", "modified_following")
DAY_MODES = ("same_as_first", "day_of_month", "weekday")
MAX_INSTALLMENTS = 360


class ScheduleError(ValueError):
    """Invalid schedule input; the message says what is wrong."""


def split_even(total, count, round_fn, rounding=0.01):
    """Split ``total`` into ``count`` parts rounded by ``round_fn``.

    Every part but the last is ``total / count`` rounded to the nearest unit
    (``rounding``, e.g. 0.01); when rounding up would leave nothing for the
    last part (1000 / 51 in a 0-decimal currency), the part is rounded down
    instead. The last part takes what remains, so ``sum(parts) == total``.
    """
    if count < 1:
        raise ScheduleError("The number of installments must be at least 1.")
    nearest = round_fn(total / count)
    down = round_fn(math.floor(total / count / rounding + 1e-9) * rounding)
    for part in (nearest, down):
        parts = [part] * (count - 1)
        parts.append(round_fn(total - sum(parts)))
        if round_fn(parts[-1]) > 0:
            break
    _check_parts(total, parts, round_fn)
    return parts


def split_fixed(total, amount, round_fn):
    """Parts of ``amount`` each until ``total`` is covered; the last takes the rest."""
    amount = round_fn(amount)
    if amount <= 0:
        raise ScheduleError("The installment amount must be positive.")
    if round_fn(amount - total) > 0:
        raise ScheduleError("The installment amount is above the amount due.")
    parts = []
    remaining = round_fn(total)
    while round_fn(remaining - amount) > 0:
        parts.append(amount)
        remaining = round_fn(remaining - amount)
        if len(parts) >= MAX_INSTALLMENTS:
            raise ScheduleError(
                "This amount would need more than %s installments." % MAX_INSTALLMENTS
            )
    parts.append(remaining)
    _check_parts(total, parts, round_fn)
    return parts


def split_count_amount(total, count, amount, round_fn):
    """``count`` parts of ``amount``, the last one taking what differs from
    ``total``. Returns ``(parts, difference)``: ``difference`` is ``total -
    count × amount`` (0 when they match; the caller decides whether the last
    installment may take it)."""
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise ScheduleError(
            "The number of installments must be between 1 and %s." % MAX_INSTALLMENTS
        )
    amount = round_fn(amount)
    difference = round_fn(total - amount * count)
    parts = [amount] * (count - 1) + [round_fn(total - amount * (count - 1))]
    return parts, difference


def _check_parts(total, parts, round_fn):
    if round_fn(sum(parts) - total) != 0:  # pragma: no cover - arithmetic invariant
        raise ScheduleError("Installments do not add up to the total.")
    if any(round_fn(p) <= 0 for p in parts):
        raise ScheduleError(
            "The amount is too small to be split into that many installments."
        )


def clamp_day(year, month, day):
    """``day`` of the given month, or the month's last day when it has fewer days."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_interval(anchor, steps, interval_number=1, interval_unit="month"):
    """``anchor`` moved by ``steps`` intervals, always counted from the anchor.

    Counting from the anchor (not from the previous date) keeps month-end
    anchoring stable: Jan 31 + 1 month = Feb 28/29, + 2 months = Mar 31.
    """
    if interval_unit not in INTERVAL_UNITS:
        raise ScheduleError("The interval unit must be day, week or month.")
    if interval_number < 1:
        raise ScheduleError("The interval must be at least 1.")
    n = steps * interval_number
    if interval_unit == "day":
        return anchor + timedelta(days=n)
    if interval_unit == "week":
        return anchor + timedelta(weeks=n)
    return anchor + relativedelta(months=n)


def generate_dates(first_date, count, interval_number=1, interval_unit="month"):
    """``count`` dates starting on ``first_date``, one interval apart."""
    if not first_date:
        raise ScheduleError("The first due date is required.")
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise ScheduleError(
            "The number of installments must be between 1 and %s." % MAX_INSTALLMENTS
        )
    return [
        add_interval(first_date, i, interval_number, interval_unit)
        for i in range(count)
    ]


def first_day_of_month_on_or_after(ref_date, day):
    """Day ``day`` (1-31, clamped) of ``ref_date``'s month if not yet passed.

    "Not yet passed" includes the day itself: an invoice dated the 15th with
    day 15 is due the same day. Otherwise the day of the next month.
    """
    if not 1 <= day <= 31:
        raise ScheduleError("The day of the month must be between 1 and 31.")
    candidate = clamp_day(ref_date.year, ref_date.month, day)
    if candidate >= ref_date:
        return candidate
    nxt = ref_date + relativedelta(months=1)
    return clamp_day(nxt.year, nxt.month, day)


def recurring_dates(
    first_date,
    count,
    interval_number=1,
    interval_unit="month",
    fixed_dates=None,
    day_mode="same_as_first",
    recurring_day=None,
):
    """Dates for a payment-term scheme.

    ``fixed_dates`` maps an installment index (0-based) to an absolute date;
    every other installment follows the recurrence counted from the previous
    installment. With ``day_mode == 'day_of_month'`` monthly recurrences land on
    ``recurring_day`` (clamped); with ``same_as_first`` they keep the first
    installment's day (month-end anchored). With ``day_mode == 'weekday'``
    weekly recurrences land on weekday ``recurring_day`` (0 = Monday): the
    first such day after ``interval_number - 1`` weeks from the previous
    installment (every 2 weeks on Monday from a Friday: the Monday 10 days
    later). A day mode that does not fit the unit is ignored.
    """
    fixed_dates = fixed_dates or {}
    dates = [first_date]
    for i in range(1, count):
        if fixed_dates.get(i):
            dates.append(fixed_dates[i])
            continue
        previous = dates[-1]
        if interval_unit == "week" and day_mode == "weekday":
            dates.append(next_weekday_after(previous, interval_number, recurring_day))
            continue
        if interval_unit != "month":
            dates.append(add_interval(previous, 1, interval_number, interval_unit))
            continue
        target = previous + relativedelta(months=interval_number)
        day = recurring_day if day_mode == "day_of_month" else first_date.day
        dates.append(clamp_day(target.year, target.month, day))
    for earlier, later in itertools.pairwise(dates):
        if later <= earlier:
            raise ScheduleError(
                "Installment dates must be increasing: %s is not after %s."
                % (later, earlier)
            )
    return dates


def next_weekday_after(previous, interval_number, weekday):
    """The first ``weekday`` (0 = Monday … 6 = Sunday) strictly after
    ``previous`` + ``interval_number - 1`` weeks."""
    if weekday is None or not 0 <= int(weekday) <= 6:
        raise ScheduleError("The day of the week must be between Monday and Sunday.")
    start = previous + timedelta(weeks=interval_number - 1, days=1)
    return start + timedelta(days=(int(weekday) - start.weekday()) % 7)


def shift_to_working_day(day, policy, is_working_day, limit=366):
    """Move ``day`` to a working day according to ``policy``.

    ``modified_following`` (the banks' convention): the next working day,
    unless it falls in the next month, then the previous working day, so
    that a monthly schedule keeps one date per month.
    """
    if policy not in WORKING_DAY_POLICIES:
        raise ScheduleError("Unknown working-day policy %r." % policy)
    if policy == "keep" or is_working_day(day):
        return day
    if policy == "modified_following":
        following = shift_to_working_day(day, "next", is_working_day, limit)
        if (following.year, following.month) == (day.year, day.month):
            return following
        return shift_to_working_day(day, "previous", is_working_day, limit)
    step = timedelta(days=1 if policy == "next" else -1)
    candidate = day
    for _i in range(limit):
        candidate += step
        if is_working_day(candidate):
            return candidate
    raise ScheduleError(
        "No working day within a year of %s: check the working calendar." % day
    )


def shift_dates(dates, policy, is_working_day):
    """Shift every date to a working day without ever reordering them."""
    shifted = []
    for day in dates:
        new = shift_to_working_day(day, policy, is_working_day)
        if shifted and new < shifted[-1]:
            new = shifted[-1]
        shifted.append(new)
    return shifted


def moved_dates(original, shifted):
    """``[(date, moved_from)]``: each shifted date with the date it was moved
    from, or ``None`` when it was kept (previews mark moved dates)."""
    return [
        (new, old if new != old else None)
        for old, new in zip(original, shifted, strict=True)
    ]


def allocate_oldest_first(amounts, total):
    """Fill ``amounts`` in order with ``total``; returns the part given to each."""
    allocation = []
    remaining = total
    for amount in amounts:
        part = min(max(amount, 0.0), max(remaining, 0.0))
        allocation.append(part)
        remaining -= part
    return allocation


def reduce_from_last(amounts, reduction):
    """Take ``reduction`` off ``amounts`` from the last one backwards."""
    reduced = [0.0] * len(amounts)
    remaining = reduction
    for i in range(len(amounts) - 1, -1, -1):
        part = min(max(amounts[i], 0.0), max(remaining, 0.0))
        reduced[i] = part
        remaining -= part
    return reduced
