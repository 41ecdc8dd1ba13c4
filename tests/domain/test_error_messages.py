"""Error texts are templates with their values apart: shown in English as before, and in
another language by translating the template first, then filling it in."""

import pytest

from app.domain.errors import FieldError, Invalid, Message, NotFound, Summary, refuse_any

PIG_LATIN = {
    "No card {number}.": "Onay ardcay {number}.",
    "must be > 0": "ustmay ebay > 0",
    "The churn period": "Ethay urnchay eriodpay",
    "{what} is invalid: {problems}": "{what} isay invaliday: {problems}",
    "must be {what}": "{what} ustmay ebay",
    "between 0 and 1": "etweenbay 0 anday 1",
    "broken {x}": "okenbray {y}",  # a faulty translation: its placeholder is unknown
}


def pig_latin(text: str) -> str:
    return PIG_LATIN.get(text, text)


def test_the_english_detail_is_the_template_filled_in():
    error = NotFound("card_not_found", "No card {number}.", number="S01GD0000427")
    assert error.detail == str(error) == "No card S01GD0000427."
    assert error.message.render(pig_latin) == "Onay ardcay S01GD0000427."


def test_a_field_names_its_error_with_the_same_text():
    error = Invalid("invalid_k", "must be > 0", field="k")
    assert error.errors == [FieldError("k", "must be > 0")]
    assert error.errors[0].message == "must be > 0"
    assert error.errors[0].render(pig_latin) == "ustmay ebay > 0"


def test_messages_within_messages_are_translated_too():
    nested = Message("must be {what}", what=Message("between 0 and 1"))
    assert nested.render() == "must be between 0 and 1"
    assert nested.render(pig_latin) == "etweenbay 0 anday 1 ustmay ebay"


def test_refuse_any_lists_every_field_in_the_language_shown():
    problems = [FieldError("k", "must be > 0"), FieldError("n", "must be > 0")]
    with pytest.raises(Invalid) as caught:
        refuse_any(problems, "invalid_period", "The churn period")
    assert caught.value.detail == "The churn period is invalid: must be > 0 must be > 0"
    assert caught.value.message.render(pig_latin) == (
        "Ethay urnchay eriodpay isay invaliday: ustmay ebay > 0 ustmay ebay > 0"
    )
    assert Summary(problems, 1).render(pig_latin) == "k: ustmay ebay > 0"


def test_a_faulty_translation_falls_back_to_english():
    assert Message("broken {x}", x=1).render(pig_latin) == "broken 1"


@pytest.mark.parametrize("text", ["unknown field '{a'", "unknown field '{b}'", "'}'", "{0}"])
def test_a_text_quoting_braces_is_shown_as_it_is(text):
    """Row reasons of an import quote what the client sent; they are no templates."""
    assert FieldError("line[2]", text).message == text
    assert Invalid("invalid_rows", text).detail == text
