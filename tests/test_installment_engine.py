"""The schedule engine on its own: pure functions, property-tested."""

import itertools
from datetime import date, timedelta
from unittest import TestCase

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

# Imported in setUpClass, once Odoo has loaded the add-ons in dependency order:
# importing the add-on package at collection time would register its HTTP
# controllers before those of the modules it extends.
schedule = None


def round_to(digits):
    return lambda amount: round(amount + 0.0, digits)


@tagged("post_install", "-at_install")
class TestScheduleEngine(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        global schedule
        from odoo.addons.installment_credit.tools import schedule as engine

        schedule = engine

    def test_even_split_remainder_on_last(self):
        self.assertEqual(
            schedule.split_even(1000, 3, round_to(2)), [333.33, 333.33, 333.34]
        )
        self.assertEqual(schedule.split_even(100, 7, round_to(0), 1), [14] * 6 + [16])
        self.assertEqual(
            schedule.split_even(100, 7, round_to(3), 0.001), [14.286] * 6 + [14.284]
        )
        # Rounding 19.6 up to 20 would leave 0 for the last of 51: round down.
        self.assertEqual(
            schedule.split_even(1000, 51, round_to(0), 1), [19] * 50 + [50]
        )

    def test_fixed_amount_count_follows(self):
        self.assertEqual(
            schedule.split_fixed(1000, 300, round_to(2)), [300, 300, 300, 100]
        )
        self.assertEqual(schedule.split_fixed(900, 300, round_to(2)), [300, 300, 300])
        with self.assertRaisesRegex(schedule.ScheduleError, "above the amount due"):
            schedule.split_fixed(100, 200, round_to(2))
        with self.assertRaisesRegex(schedule.ScheduleError, "positive"):
            schedule.split_fixed(100, 0, round_to(2))

    def test_too_small_to_split(self):
        with self.assertRaisesRegex(schedule.ScheduleError, "too small"):
            schedule.split_even(0.02, 3, round_to(2))

    def test_month_end_anchoring_leap_year(self):
        dates = schedule.generate_dates(date(2024, 1, 31), 5, 1, "month")
        self.assertEqual(
            dates,
            [
                date(2024, 1, 31),
                date(2024, 2, 29),
                date(2024, 3, 31),
                date(2024, 4, 30),
                date(2024, 5, 31),
            ],
        )
        self.assertEqual(
            schedule.generate_dates(date(2025, 1, 31), 2, 1, "month")[1],
            date(2025, 2, 28),
        )

    def test_weekly_and_daily(self):
        self.assertEqual(
            schedule.generate_dates(date(2026, 1, 1), 3, 2, "week"),
            [date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 29)],
        )
        self.assertEqual(
            schedule.generate_dates(date(2026, 1, 30), 3, 1, "day"),
            [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1)],
        )

    def test_bad_input(self):
        with self.assertRaisesRegex(schedule.ScheduleError, "between 1 and 360"):
            schedule.generate_dates(date(2026, 1, 1), 361)
        with self.assertRaisesRegex(schedule.ScheduleError, "at least 1"):
            schedule.generate_dates(date(2026, 1, 1), 3, 0)
        with self.assertRaisesRegex(schedule.ScheduleError, "first due date"):
            schedule.generate_dates(None, 3)

    def test_working_day_shift_never_reorders(self):
        # Sat 2026-01-03 and Sun 2026-01-04 both move to Mon 2026-01-05.
        def weekdays(day):
            return day.weekday() < 5

        days = [date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 4)]
        self.assertEqual(
            schedule.shift_dates(days, "next", weekdays),
            [date(2026, 1, 2), date(2026, 1, 5), date(2026, 1, 5)],
        )
        self.assertEqual(
            schedule.shift_dates(days, "previous", weekdays),
            [date(2026, 1, 2), date(2026, 1, 2), date(2026, 1, 2)],
        )
        self.assertEqual(schedule.shift_dates(days, "keep", weekdays), days)

    def test_day_of_month_rule(self):
        first = schedule.first_day_of_month_on_or_after
        self.assertEqual(first(date(2026, 3, 10), 15), date(2026, 3, 15))
        self.assertEqual(first(date(2026, 3, 15), 15), date(2026, 3, 15))
        self.assertEqual(first(date(2026, 3, 20), 15), date(2026, 4, 15))
        self.assertEqual(first(date(2026, 4, 10), 31), date(2026, 4, 30))
        self.assertEqual(first(date(2024, 2, 10), 30), date(2024, 2, 29))

    def test_allocation_helpers(self):
        self.assertEqual(
            schedule.allocate_oldest_first([100, 100, 100], 150), [100, 50, 0]
        )
        self.assertEqual(schedule.reduce_from_last([100, 100, 100], 150), [0, 50, 100])

    @settings(max_examples=200, deadline=None)
    @given(
        total=st.integers(min_value=1000, max_value=10**9),
        count=st.integers(min_value=1, max_value=360),
        digits=st.sampled_from([0, 2, 3]),
    )
    def test_property_sum_preserved(self, total, count, digits):
        amount = total / 10**digits
        if amount / count < 10**-digits:
            return
        parts = schedule.split_even(amount, count, round_to(digits), 10**-digits)
        self.assertEqual(len(parts), count)
        self.assertAlmostEqual(sum(parts), amount, places=digits + 3)
        self.assertTrue(all(p > 0 for p in parts))

    @settings(max_examples=200, deadline=None)
    @given(
        first=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
        count=st.integers(min_value=1, max_value=360),
        number=st.integers(min_value=1, max_value=3),
        unit=st.sampled_from(["day", "week", "month"]),
        policy=st.sampled_from(["keep", "next", "previous"]),
    )
    def test_property_dates(self, first, count, number, unit, policy):
        holidays = {first + timedelta(days=k * 11) for k in range(40)}

        def working(day):
            return day.weekday() < 5 and day not in holidays

        dates = schedule.generate_dates(first, count, number, unit)
        self.assertTrue(all(a < b for a, b in itertools.pairwise(dates)))
        if unit == "month":
            # Anchored on the first day: never drifts below it unless the
            # month is shorter.
            for day in dates:
                self.assertTrue(
                    day.day == first.day
                    or day.day < first.day
                    and ((day + timedelta(days=1)).day == 1)
                )
        shifted = schedule.shift_dates(dates, policy, working)
        self.assertTrue(all(a <= b for a, b in itertools.pairwise(shifted)))
        if policy != "keep":
            self.assertTrue(all(working(day) for day in shifted))
