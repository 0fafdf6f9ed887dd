"""The campaigns' `{name}` renderer: syntax, escaping for HTML, missing values, compiled once and fast."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.campaigns.render import MissingValues, compile_template, one_line, render, variables_in

VALUES = {"name": "Asha", "policy_number": "POL-1", "premium": "12,000.00"}


def test_variables_are_substituted() -> None:
    assert render("Dear {name}, {policy_number} costs {premium}.", VALUES) == "Dear Asha, POL-1 costs 12,000.00."


def test_the_same_variable_may_appear_many_times_and_names_may_start_with_digits() -> None:
    assert render("{name}/{name}/{1st}", {"name": "A", "1st": "B"}) == "A/A/B"


def test_double_braces_are_literal_and_other_braces_are_kept() -> None:
    text = "{{name}} is {name}; style { color: red } {a-b} {} }} {{"
    assert render(text, VALUES) == "{name} is Asha; style { color: red } {a-b} {} } {"
    assert variables_in(text) == ["name"]


def test_a_value_is_inserted_once_never_expanded_again() -> None:
    assert render("{a} {b}", {"a": "{b}", "b": "x"}) == "{b} x"


def test_html_escapes_values_but_not_the_template() -> None:
    body = '<p class="x">Hi {name}</p><a href="{link}">go</a>'
    values = {"name": "<script>alert('x')</script> & co", "link": 'https://e.x/?a=1&b="2"'}
    assert render(body, values, html=True) == (
        '<p class="x">Hi &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co</p>'
        '<a href="https://e.x/?a=1&amp;b=&quot;2&quot;">go</a>'
    )
    assert render(body, values, html=False).count("<script>") == 1  # text keeps the value as is


def test_missing_values_are_all_named_in_order_of_appearance() -> None:
    with pytest.raises(MissingValues) as caught:
        render("{b} {name} {a} {b}", VALUES)
    assert caught.value.names == ("b", "a")
    assert caught.value.code == "missing_template_values"


def test_extra_values_are_ignored() -> None:
    assert render("plain", VALUES) == "plain"


def test_compiled_template_lists_its_variables_and_renders_repeatedly() -> None:
    compiled = compile_template("{x}-{y}-{x}")
    assert compiled.variables == ("x", "y")
    assert [compiled.render({"x": str(i), "y": "y"}) for i in range(3)] == ["0-y-0", "1-y-1", "2-y-2"]


def test_one_line_makes_a_subject_header_safe() -> None:
    subject = render("Renewal for {name}", {"name": "Asha\r\nBcc: all@example.com \n"})
    assert one_line(subject) == "Renewal for Asha Bcc: all@example.com"
    assert one_line("a\u2028b") == "a b"


names = st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True)
literals = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20)


@given(parts=st.lists(st.tuples(literals, names), max_size=8), tail=literals,
       values=st.dictionaries(names, st.text(max_size=10), max_size=10))
def test_rendering_equals_joining_the_literals_and_values(parts: list[tuple[str, str]], tail: str,
                                                          values: dict[str, str]) -> None:
    text = "".join(f"{literal}{{{name}}}" for literal, name in parts) + tail
    for _, name in parts:
        values.setdefault(name, f"<{name}>")
    expected = "".join(literal + values[name] for literal, name in parts) + tail
    assert compile_template(text).render(values) == expected


@given(text=st.text(max_size=60))
def test_any_text_without_variables_or_double_braces_renders_unchanged(text: str) -> None:
    compiled = compile_template(text)
    if compiled.variables or "{{" in text or "}}" in text:
        return
    assert compiled.render({}) == text


def test_rendering_is_fast_enough_for_the_bench() -> None:
    """A sanity floor only (the bench measures for real): subject + a 1 KB HTML body per recipient."""
    paragraph = "<p>Your policy {policy_number} renews soon; the premium is {premium}. Please renew online.</p>"
    body = compile_template(f"<html><body><p>Dear {{name}},</p>{paragraph * 12}</body></html>")
    subject = compile_template("{name}, your policy {policy_number} is due")
    assert len(body.render(VALUES, html=True)) >= 1000
    count = 2_000
    started = time.perf_counter()
    for i in range(count):
        values = {**VALUES, "name": f"Customer {i} <x>"}
        subject.render(values)
        body.render(values, html=True)
    elapsed = time.perf_counter() - started
    assert count / elapsed >= 2_000
