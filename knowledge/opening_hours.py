"""Opening hours as data, and "is it open now?" for Europe/Berlin with NRW public holidays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
WEEKDAY_SHORT = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
LOOKAHEAD_DAYS = 21


@lru_cache(maxsize=8)
def _nrw_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv="NW", years=year, language="de")


def holiday_name(day: date) -> str | None:
    return _nrw_holidays(day.year).get(day)


def format_time(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


@dataclass(frozen=True)
class Interval:
    start: time
    end: time

    def text(self) -> str:
        return f"{format_time(self.start)} bis {format_time(self.end)} Uhr"


@dataclass(frozen=True)
class OpeningStatus:
    is_open: bool
    closes_at: datetime | None
    next_opening: datetime | None
    holiday: str | None


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours; index 0 is Monday. An empty day means closed."""

    days: tuple[tuple[Interval, ...], ...]

    @classmethod
    def parse(cls, raw: Mapping[str, Sequence[Sequence[str]]]) -> OpeningHours:
        def interval(pair: Sequence[str]) -> Interval:
            return Interval(time.fromisoformat(pair[0]), time.fromisoformat(pair[1]))

        return cls(tuple(tuple(interval(p) for p in raw.get(key, [])) for key in WEEKDAY_KEYS))

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if holiday_name(day):
            return ()
        return self.days[day.weekday()]

    def status(self, now: datetime) -> OpeningStatus:
        now = now.astimezone(BERLIN)
        today = now.date()
        for interval in self.intervals_on(today):
            if interval.start <= now.time() < interval.end:
                closes = datetime.combine(today, interval.end, tzinfo=BERLIN)
                return OpeningStatus(True, closes, None, None)
        return OpeningStatus(False, None, self.next_opening(now), holiday_name(today))

    def next_opening(self, now: datetime) -> datetime | None:
        now = now.astimezone(BERLIN)
        for offset in range(LOOKAHEAD_DAYS):
            day = now.date() + timedelta(days=offset)
            for interval in self.intervals_on(day):
                start = datetime.combine(day, interval.start, tzinfo=BERLIN)
                if start > now:
                    return start
        return None

    def week_text(self) -> str:
        """'Mo, Do, Fr: 8:00 bis 12:30 Uhr; Di: 8:00 bis 18:00 Uhr; Mi: geschlossen'."""
        groups: dict[str, list[str]] = {}
        for index, intervals in enumerate(self.days[:5]):
            hours = " und ".join(i.text() for i in intervals) if intervals else "geschlossen"
            groups.setdefault(hours, []).append(WEEKDAY_SHORT[index])
        return "; ".join(f"{', '.join(days)}: {hours}" for hours, days in groups.items())


def describe_moment(moment: datetime, now: datetime) -> str:
    """'heute um 13:00 Uhr', 'morgen um 8:00 Uhr', 'am Dienstag, 24.11., um 8:00 Uhr'."""
    moment, now = moment.astimezone(BERLIN), now.astimezone(BERLIN)
    days = (moment.date() - now.date()).days
    clock = f"{format_time(moment.time())} Uhr"
    if days == 0:
        return f"heute um {clock}"
    if days == 1:
        return f"morgen um {clock}"
    return f"am {WEEKDAY_NAMES[moment.weekday()]}, {moment:%d.%m.}, um {clock}"
