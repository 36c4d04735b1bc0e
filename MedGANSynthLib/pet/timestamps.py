"""Clock times of a PET scan: parse DICOM TM/DA/DT values and user-typed times, and order injection before scan.

A :class:`Timestamp` remembers whether it carried a calendar date, because the midnight rule differs: with dates
the difference is taken as is (an injection after the scan is an error); without a date, a scan clock time earlier
than the injection clock time means the scan happened on the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from MedGANSynthLib.errors import InputError

# Without dates, a midnight roll-over is only believed when it gives a plausible uptake delay.
MAX_ROLLOVER_DELAY = timedelta(hours=12)
# Used to place a time without any date on a timeline; only differences are ever used.
_NO_DATE = date(2000, 1, 1)


@dataclass(frozen=True)
class Timestamp:
    moment: datetime
    has_date: bool

    def iso(self) -> str:
        return self.moment.isoformat() if self.has_date else self.moment.time().isoformat()


def parse_dicom_time(value: str) -> time:
    """DICOM TM: HH, HHMM, HHMMSS or HHMMSS.FFFFFF (older files may use HH:MM:SS)."""
    text = str(value).strip().replace(":", "")
    if not text or not text.split(".")[0].isdigit() or len(text.split(".")[0]) not in (2, 4, 6):
        raise InputError(f"'{value}' is not a time of day; write it as HHMMSS (e.g. 141700) or HH:MM:SS.")
    whole, _, fraction = text.partition(".")
    whole = whole.ljust(6, "0")
    hours, minutes, seconds = int(whole[:2]), int(whole[2:4]), int(whole[4:6])
    micro = int((fraction or "0")[:6].ljust(6, "0")) if fraction.isdigit() or not fraction else -1
    if hours > 23 or minutes > 59 or seconds > 60 or micro < 0:
        raise InputError(f"'{value}' is not a valid time of day (HHMMSS[.ffffff]).")
    return time(hours, minutes, min(seconds, 59), micro)


def parse_dicom_date(value: str) -> date:
    text = str(value).strip().replace(".", "").replace("-", "")
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError as error:
        raise InputError(f"'{value}' is not a DICOM date (YYYYMMDD).") from error


def parse_dicom_datetime(value: str) -> datetime:
    """DICOM DT: YYYYMMDDHHMMSS[.FFFFFF][&ZZXX]; the time-zone offset is dropped (both times share it)."""
    text = str(value).strip()
    for sign in "+-":
        if sign in text[8:]:
            text = text[: 8 + text[8:].index(sign)]
    if len(text) < 10:
        raise InputError(f"'{value}' is not a DICOM date-time (YYYYMMDDHHMMSS).")
    return datetime.combine(parse_dicom_date(text[:8]), parse_dicom_time(text[8:]))


def parse_user_time(value: str | datetime | time | Timestamp) -> Timestamp:
    """A time typed by a user: HHMMSS[.ffffff], HH:MM[:SS], or an ISO date-time such as 2024-03-01T14:17:00."""
    if isinstance(value, Timestamp):
        return value
    if isinstance(value, datetime):
        return Timestamp(value.replace(tzinfo=None), True)
    if isinstance(value, time):
        return Timestamp(datetime.combine(_NO_DATE, value), False)
    text = str(value).strip()
    if "-" in text[1:] and len(text) >= 10:
        try:
            return Timestamp(datetime.fromisoformat(text).replace(tzinfo=None), True)
        except ValueError as error:
            raise InputError(f"'{value}' is not an ISO date-time (e.g. 2024-03-01T14:17:00).") from error
    return Timestamp(datetime.combine(_NO_DATE, parse_dicom_time(text)), False)


def dicom_timestamp(date_value: str | None, time_value: str) -> Timestamp:
    """Combine a DICOM DA (may be empty) and TM into a Timestamp."""
    clock = parse_dicom_time(time_value)
    if date_value and str(date_value).strip():
        return Timestamp(datetime.combine(parse_dicom_date(date_value), clock), True)
    return Timestamp(datetime.combine(_NO_DATE, clock), False)


def uptake_seconds(injection: Timestamp, scan: Timestamp) -> float:
    """Seconds from injection to scan; across midnight only when a date is missing on either side."""
    if injection.has_date and scan.has_date:
        delay = scan.moment - injection.moment
    else:
        delay = datetime.combine(_NO_DATE, scan.moment.time()) - datetime.combine(_NO_DATE, injection.moment.time())
        if delay < timedelta(0) and delay + timedelta(days=1) <= MAX_ROLLOVER_DELAY:
            delay += timedelta(days=1)  # injected before midnight, scanned after it
    if delay < timedelta(0):
        raise InputError(
            f"The injection time {injection.iso()} is after the scan time {scan.iso()}; check "
            "--injection-time and --scan-time (or the DICOM RadiopharmaceuticalStartTime)."
        )
    return delay.total_seconds()
