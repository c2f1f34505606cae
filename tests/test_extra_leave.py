"""Zusatzurlaub for a person's case: the working week and the start of the Schwerbehinderung."""

import pytest

from knowledge import extra_leave


@pytest.mark.parametrize(
    ("text", "days", "day", "month"),
    [
        ("Ich arbeite 4 Tage die Woche, wie viel Zusatzurlaub?", 4, None, None),
        ("drei Arbeitstage pro Woche", 3, None, None),
        ("Schwerbehindert seit dem 15. März, Fünf-Tage-Woche", 5, 15, 3),
        ("ab Juli anerkannt", None, 1, 7),
        ("ab dem 1.9. anerkannt", None, 1, 9),
        ("Wie viel Zusatzurlaub bekomme ich?", None, None, None),
        ("ab dem 3. 13. anerkannt", None, None, None),
    ],
)
def test_case_of_reads_week_and_start(
    text: str, days: int | None, day: int | None, month: int | None
) -> None:
    case = extra_leave.case_of(text)
    assert (case.days_per_week, case.start_day, case.start_month) == (days, day, month)


def test_full_months_count_only_whole_calendar_months() -> None:
    assert extra_leave.full_months(1, 7) == 6
    assert extra_leave.full_months(15, 3) == 9
    assert extra_leave.full_months(1, 1) == 12


def test_part_of_the_year_is_twelfths_rounded_from_half_a_day() -> None:
    assert extra_leave.days_this_year(5) == 5
    assert extra_leave.days_this_year(5, 1, 7) == 3  # 6/12 * 5 = 2.5 -> 3
    assert extra_leave.days_this_year(5, 15, 3) == 4  # 9/12 * 5 = 3.75 -> 4
    assert extra_leave.days_this_year(4, 1, 10) == 1  # 3/12 * 4 = 1.0
    assert extra_leave.days_this_year(5, 1, 11) == 1  # 2/12 * 5 = 0.83 -> 1
    assert extra_leave.days_this_year(5, 1, 12) == 0  # 1/12 * 5 = 0.42 -> 0
