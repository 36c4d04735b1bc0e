"""Checks shared by the network config dataclasses; each failure is one clear InputError line."""

from __future__ import annotations

from MedGANSynthLib.errors import InputError


def require_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InputError(f"Network setting '{name}' must be a positive whole number, got {value!r}.")


def require_fraction(name: str, value: object, *, allow_zero: bool = True) -> None:
    if not isinstance(value, int | float) or not (0.0 <= float(value) < 1.0) or (not allow_zero and value == 0):
        raise InputError(f"Network setting '{name}' must be a number in [0, 1), got {value!r}.")


def require_positive_ints(name: str, values: object, min_length: int = 1) -> None:
    if not isinstance(values, tuple | list) or len(values) < min_length:
        raise InputError(f"Network setting '{name}' must list at least {min_length} channel counts, got {values!r}.")
    for value in values:
        require_positive_int(name, value)


def power_of_two_exponent(name: str, ratio: float) -> int:
    """k with 2**k == ratio, or an InputError explaining which sizes work."""
    k = 0
    while (1 << k) < ratio:
        k += 1
    if (1 << k) != ratio:
        raise InputError(f"{name} must be the base size times a power of two (got a ratio of {ratio}).")
    return k
