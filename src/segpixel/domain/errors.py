"""Errors a user can cause, each a sentence that names the field and the rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str  # a whole sentence that starts with the field's name

    def __str__(self) -> str:
        return self.message


class ValidationFailed(Exception):
    """Fields break rules: the API answers SYNTAX, the console shows each error at its field."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def field_error(field: str, rule: str) -> FieldError:
    return FieldError(field, f"{field} {rule}")


def raise_if_any(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)
