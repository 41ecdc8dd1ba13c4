"""Pydantic's validation messages, translatable: a template per error ``type`` whose
placeholders are the error's ``ctx``. In English a field keeps pydantic's own message; a type
missing here is shown as pydantic words it."""

from __future__ import annotations

from typing import Any

from app.domain.errors import N_, Message, Translate

TEMPLATES = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": N_("String should have at least {min_length} characters"),
    "string_too_long": N_("String should have at most {max_length} characters"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "decimal_parsing": N_("Input should be a valid decimal"),
    "decimal_max_digits": N_("Decimal input should have no more than {max_digits} digits in total"),
    "decimal_max_places": N_(
        "Decimal input should have no more than {decimal_places} decimal places"
    ),
    "enum": N_("Input should be {expected}"),
    "literal_error": N_("Input should be {expected}"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_attributes_type": N_(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "too_short": N_("{field_type} should have at least {min_length} items after validation"),
    "too_long": N_("{field_type} should have at most {max_length} items after validation"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date"),
    "date_from_datetime_parsing": N_("Input should be a valid date"),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime"),
    "timezone_aware": N_("Input should have timezone info"),
    "uuid_type": N_("Input should be a valid UUID"),
    "uuid_parsing": N_("Input should be a valid UUID"),
    "union_tag_invalid": N_(
        "Input tag '{tag}' does not match any of the expected tags: {expected_tags}"
    ),
    "union_tag_not_found": N_("Unable to extract tag using discriminator {discriminator}"),
}


class _Pydantic(Message):
    """Shown in English as pydantic words it; translated from the template by type."""

    __slots__ = ("english",)

    def __init__(self, template: str, english: str, **params: Any) -> None:
        super().__init__(template, **params)
        self.english = english

    def render(self, gettext: Translate | None = None) -> str:
        if gettext is None or gettext(self.template) == self.template:
            return self.english  # English, or a message without a translation
        return super().render(gettext)


def field_message(error: dict) -> Message:
    """One pydantic error's message, translatable. A custom ``value_error`` (our own
    validators) is looked up by its text, which is then the message id."""
    english = error.get("msg", "")
    kind = error.get("type", "")
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, str | int | float)}
    if kind == "value_error":
        if template := ctx.pop("template", None):  # ours (schemas.common._refused): its texts too
            return _Pydantic(str(template), english, **{k: Message(str(v)) for k, v in ctx.items()})
        return _Pydantic(english.removeprefix("Value error, "), english)
    return _Pydantic(TEMPLATES.get(kind, english), english, **ctx)
