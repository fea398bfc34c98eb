"""``timedelta``: numbers as seconds, ISO 8601 durations and ``[D day[s][, ]][HH:MM:]SS``.

The string rules are those of pydantic v2 (its ``speedate`` parser), found by
running pydantic on many inputs: ``P3DT4H``, ``-P1D``, ``PT1.5S`` (a fraction only
on the last quantity; ``Y`` is 365 days, ``M`` 30 before ``T``), ``01:02:03``,
``1:02``, ``99:00:00``, ``2 days, 01:02:03``, ``1d``... A bare number in a
string (``"3600"``) is *not* a duration for pydantic, so it is refused here too.
Refusals carry pydantic's ``time_delta_parsing`` error and its wording.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from .errors import ConversionError, fail

__all__ = ["to_timedelta"]

_MAX_DAYS = 999_999_999
_U32 = 2**32 - 1

_TOO_SHORT = "input is too short"
_BAD_NUMBER = "invalid digit in duration"
_T_REPEATED = "`t` character repeated in duration"
_BAD_FRACTION = "quantity fraction invalid in duration"
_BAD_TIME_UNIT = "quantity invalid in time part of duration"
_BAD_DATE_UNIT = "quantity invalid in date part of duration"
_BAD_DAYS = '"day" identifier in duration not correctly formatted'
_TOO_LARGE = "a numeric value in the duration is too large"
_DAYS_TOO_LARGE = "durations may not exceed 999,999,999 days"
_HOURS_TOO_LARGE = "durations may not exceed 999,999,999 hours"
_BAD_HOUR = "invalid character in hour"
_BAD_MINUTE = "invalid character in minute"
_BAD_SECOND = "invalid character in second"
_MINUTE_RANGE = "minute value is outside expected range of 0-59"
_SECOND_RANGE = "second value is outside expected range of 0-59"
_FRACTION_MISSING = "second fraction digits missing after `.`"
_EXTRA = "unexpected extra characters at the end of the input"


class _Bad(Exception):
    """A parse failure; its argument is pydantic's ``ctx["error"]``."""


# ISO 8601 designators (as byte values, what indexing bytes gives) and what one
# of each is worth: seconds after the "T", days before it (pydantic's year and
# month are 365 and 30 days).
_TIME_UNITS: dict[int, int] = {ord("H"): 3600, ord("M"): 60, ord("S"): 1}
_DATE_UNITS: dict[int, int] = {ord("Y"): 365, ord("M"): 30, ord("W"): 7, ord("D"): 1}


def _add(a: int, b: int) -> int:
    total = a + b
    if total > _U32:  # speedate counts in unsigned 32-bit integers
        raise _Bad(_TOO_LARGE)
    return total


def _digit(data: bytes, index: int, problem: str) -> int:
    if index < len(data) and 48 <= data[index] <= 57:
        return data[index] - 48
    raise _Bad(problem)


def _round(value: float) -> int:
    return math.floor(value + 0.5)  # half away from zero, for the non-negative values here


def _number(data: bytes, position: int) -> tuple[int, int]:
    """Digits at ``position``: their value and the position after them."""
    if position >= len(data) or not 48 <= data[position] <= 57:
        raise _Bad(_BAD_NUMBER)
    value = 0
    while position < len(data) and 48 <= data[position] <= 57:
        value = _add(value * 10, data[position] - 48)
        position += 1
    return value, position


def _number_fraction(data: bytes, position: int) -> tuple[int, float | None, int]:
    value, position = _number(data, position)
    if position >= len(data) or data[position] not in b".,":
        return value, None, position
    decimal, denominator = 0.0, 1.0
    position += 1
    while position < len(data) and 48 <= data[position] <= 57:
        decimal = decimal * 10 + (data[position] - 48)
        denominator *= 10
        position += 1
    return value, decimal / denominator, position


def _iso(data: bytes, position: int) -> tuple[int, int, int]:
    got_t = last_had_fraction = False
    day = second = micro = 0
    while position < len(data):
        if data[position] == 84:  # "T"
            if got_t:
                raise _Bad(_T_REPEATED)
            got_t = True
        else:
            value, fraction, position = _number_fraction(data, position)
            if last_had_fraction:
                raise _Bad(_BAD_FRACTION)
            last_had_fraction = fraction is not None
            unit = data[position] if position < len(data) else -1
            if got_t:
                mult = _TIME_UNITS.get(unit)
                if mult is None:
                    raise _Bad(_BAD_TIME_UNIT)
                second = _add(second, _add(0, mult * value))
                if fraction is not None:
                    extra = fraction * mult
                    whole = math.trunc(extra)
                    second = _add(second, whole)
                    micro = _add(micro, _round((extra - whole) * 1_000_000))
            else:
                mult = _DATE_UNITS.get(unit)
                if mult is None:
                    raise _Bad(_BAD_DATE_UNIT)
                day = _add(day, _add(0, value * mult))
                if fraction is not None:
                    extra_days = fraction * mult
                    whole_days = math.trunc(extra_days)
                    day = _add(day, whole_days)
                    extra = (extra_days - whole_days) * 86_400
                    whole = math.trunc(extra)
                    second = _add(second, whole)
                    micro += _round((extra - whole) * 1_000_000)
        position += 1
    if position < 3:
        raise _Bad(_TOO_SHORT)
    return day, second, micro


def _time(data: bytes, offset: int) -> tuple[int, int, int]:
    """``H...H:MM[:SS[.f...]]`` from ``offset`` to the end: (hours, seconds below one hour, µs)."""
    if len(data) - offset < 5:
        raise _Bad(_TOO_SHORT)
    hour_part, colon, rest = data[offset:].partition(b":")
    if not colon:
        raise _Bad(_BAD_HOUR)
    if len(hour_part) > 10:
        raise _Bad(_HOURS_TOO_LARGE)
    if not all(48 <= byte <= 57 for byte in hour_part):
        raise _Bad(_BAD_HOUR)
    hour = int(hour_part) if hour_part else 0
    if hour > 24 * 10**8:
        raise _Bad(_HOURS_TOO_LARGE)
    rest = rest[:12]  # "MM:SS.ffffff": extra precision is dropped, as pydantic does
    if len(rest) < 2:
        raise _Bad(_TOO_SHORT)
    minute = _digit(rest, 0, _BAD_MINUTE) * 10 + _digit(rest, 1, _BAD_MINUTE)
    if minute > 59:
        raise _Bad(_MINUTE_RANGE)
    second = micro = 0
    end = 2
    if len(rest) > 2 and rest[2] == 58:  # ":"
        second = _digit(rest, 3, _BAD_SECOND) * 10 + _digit(rest, 4, _BAD_SECOND)
        if second > 59:
            raise _Bad(_SECOND_RANGE)
        end = 5
        if len(rest) > 5 and rest[5] in b".,":
            digits = 0
            while 6 + digits < len(rest) and 48 <= rest[6 + digits] <= 57:
                digits += 1
            if digits == 0:
                raise _Bad(_FRACTION_MISSING)
            micro = int(rest[6:6 + digits]) * 10 ** (6 - digits)
            end = 6 + digits
    if end < len(rest):
        raise _Bad(_EXTRA)
    return hour, minute * 60 + second, micro


def _days_time(data: bytes, offset: int) -> tuple[int, int, int]:
    size = len(data)
    if offset >= size:
        raise _Bad(_TOO_SHORT)
    day, position = _number(data, offset)
    if position < size and data[position] == 32:  # a space before "d" is optional
        position += 1
    if position >= size or data[position] not in b"dD":
        raise _Bad(_BAD_DAYS)
    position += 1
    if position < size and data[position] in b"aA":  # "ay"/"ays" or "AY"/"AYS", one case
        upper = data[position] == 65
        if data[position + 1:position + 2] != (b"Y" if upper else b"y"):
            raise _Bad(_BAD_DAYS)
        position += 3 if data[position + 2:position + 3] == (b"S" if upper else b"s") else 2
    for optional in (b",", b" "):
        if position < size and data[position] == optional[0]:
            position += 1
    if position >= size:
        return day, 0, 0
    hour, seconds, micro = _time(data, position)
    if hour > 23:
        raise _Bad(_HOURS_TOO_LARGE)
    return day, hour * 3600 + seconds, micro


def _parse(data: bytes) -> dt.timedelta:
    if not data:
        raise _Bad(_TOO_SHORT)
    negative = data[0] == 45  # "-"
    offset = 1 if data[0] in b"+-" else 0
    if offset < len(data) and data[offset] == 80:  # "P"
        day, second, micro = _iso(data, offset + 1)
    elif b"d" in data or b"D" in data or len(data) - offset < 5:
        day, second, micro = _days_time(data, offset)
    else:
        hour, second, micro = _time(data, offset)
        day, hour = divmod(hour, 24)
        second += hour * 3600
    return _signed(negative, day, second, micro)


def _signed(negative: bool, day: int, second: int, micro: int) -> dt.timedelta:
    second = _add(second, micro // 1_000_000)
    micro %= 1_000_000
    day = _add(day, second // 86_400)
    second %= 86_400
    if day > _MAX_DAYS:
        raise _Bad(_DAYS_TOO_LARGE)
    delta = dt.timedelta(days=day, seconds=second, microseconds=micro)
    return -delta if negative else delta


def _from_seconds(total: float) -> dt.timedelta:
    if total != total:
        raise _Bad("NaN values not permitted")
    negative = math.copysign(1.0, total) < 0
    total = abs(total)
    if total / 86_400 >= _MAX_DAYS + 1:
        raise _Bad(_DAYS_TOO_LARGE)
    whole = math.trunc(total)
    return _signed(negative, whole // 86_400, whole % 86_400, _round((total - whole) * 1_000_000))


def _from_int(value: int) -> dt.timedelta:
    day, second = divmod(abs(value), 86_400)
    if day > _MAX_DAYS:
        raise _Bad(_DAYS_TOO_LARGE)
    delta = dt.timedelta(days=day, seconds=second)
    return -delta if value < 0 else delta


def _error(value: Any, problem: str) -> ConversionError:
    return fail("time_delta_parsing", f"Input should be a valid timedelta, {problem}", value,
                {"error": problem})


def to_timedelta(value: Any) -> Any:
    """A ``timedelta`` from a string, a number of seconds or a timedelta, as pydantic reads it."""
    if isinstance(value, dt.timedelta):
        return value
    try:
        if isinstance(value, str):
            return _parse(value.encode("utf-8", "surrogatepass"))
        if isinstance(value, bytes):
            return _parse(value)
        if isinstance(value, int):  # bool too: lax mode reads True as one second
            return _from_int(int(value))
        if isinstance(value, float | Decimal):
            return _from_seconds(float(value))
    except _Bad as problem:
        raise _error(value, str(problem)) from None
    raise fail("time_delta_type", "Input should be a valid timedelta", value)
