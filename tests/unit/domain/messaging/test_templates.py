"""Templates: `{name}` variables, declared-variable checks, text rendering and safe HTML email rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.messaging.templates import (
    MissingTemplateValues,
    RenderedEmail,
    html_to_text,
    render_email,
    render_text,
    undeclared_variables,
    variables_in,
)
from domain.shared.errors import DomainError


def missing(call: object, *args: object) -> tuple[str, ...]:
    assert callable(call)
    with pytest.raises(MissingTemplateValues) as caught:
        call(*args)
    return caught.value.names


# --- variables -------------------------------------------------------------------------------------------------


def test_variables_are_listed_once_in_order_of_first_appearance() -> None:
    assert variables_in("Dear {name}, policy {policy_no} renews on {due_date}. Thanks {name}!") == [
        "name", "policy_no", "due_date",
    ]


def test_names_are_letters_digits_and_underscores() -> None:
    assert variables_in("{a1} {_x} {Name_2} {9}") == ["a1", "_x", "Name_2", "9"]


def test_doubled_braces_are_literal_and_hide_what_they_wrap() -> None:
    assert variables_in("{{name}} costs {{ {amount} }}") == ["amount"]


def test_braces_around_anything_but_a_name_are_plain_text() -> None:
    css = "<style>p { color: red } a{x:y}</style>{} {first name} {a-b} {é}"
    assert variables_in(css) == []
    assert render_text(css, {}) == css


def test_undeclared_variables_cover_every_text_in_order() -> None:
    assert undeclared_variables("Hi {name} {extra}", "<p>{policy} {later} {name}</p>", declared=["name", "policy"]) == [
        "extra", "later",
    ]
    assert undeclared_variables("Hi {name}", "{policy}", declared=("policy", "name", "unused")) == []
    assert undeclared_variables(declared=["x"]) == []


def test_undeclared_variables_accept_any_iterable_once() -> None:
    assert undeclared_variables("{a} {b} {c}", declared=iter(["a", "c"])) == ["b"]


# --- plain text (SMS, WhatsApp) --------------------------------------------------------------------------------


def test_render_text_substitutes_values_verbatim() -> None:
    text = "Dear {name}, pay {amount} by {due}. <b>{{ref}}</b>"
    values = {"name": "<Asha & Co>", "amount": "₹1,200", "due": "5 May", "ref": "unused"}
    assert render_text(text, values) == "Dear <Asha & Co>, pay ₹1,200 by 5 May. <b>{ref}</b>"


def test_values_are_not_expanded_again() -> None:
    assert render_text("{a}-{b}", {"a": "{b}", "b": "{{x}}"}) == "{b}-{{x}}"


def test_render_text_names_every_missing_value_at_once() -> None:
    names = missing(render_text, "{a} {b} {a} {c} {d}", {"b": "x"})
    assert names == ("a", "c", "d")


def test_missing_values_is_a_domain_error_with_a_readable_message() -> None:
    error = MissingTemplateValues(["a", "c"])
    assert isinstance(error, DomainError)
    assert error.code == "missing_template_values"
    assert "a, c" in str(error)


# --- email -----------------------------------------------------------------------------------------------------


def test_values_in_html_are_escaped_but_the_staff_markup_is_kept() -> None:
    email = render_email("Hi {name}", "<p>Dear <b>{name}</b></p>", {"name": "<script>alert(1)</script> & co"})
    assert email.html == "<p>Dear <b>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</b></p>"
    assert "<script>" not in email.html
    assert email.subject == "Hi <script>alert(1)</script> & co"
    assert email.text == "Dear <script>alert(1)</script> & co"


def test_a_value_cannot_break_out_of_an_attribute() -> None:
    email = render_email("s", '<a href="https://x.test/p?id={id}">Pay</a>', {"id": '1" onclick="evil()'})
    assert email.html == '<a href="https://x.test/p?id=1&quot; onclick=&quot;evil()">Pay</a>'


def test_subject_lines_breaks_in_values_cannot_inject_headers() -> None:
    email = render_email("Renewal for {name}", "<p>x</p>", {"name": "Asha\r\nBcc: victim@example.com\n\nX"})
    assert email.subject == "Renewal for Asha Bcc: victim@example.com X"
    assert "\n" not in email.subject and "\r" not in email.subject


def test_unicode_line_separators_are_also_removed_from_the_subject() -> None:
    assert render_email("{a}", "x", {"a": "one\u2028two\x85three"}).subject == "one two three"


def test_missing_values_of_subject_and_body_are_reported_together() -> None:
    assert missing(render_email, "{s} {shared}", "<p>{b} {shared}</p>", {"other": "1"}) == ("s", "shared", "b")


def test_content_without_tags_is_text_with_line_breaks() -> None:
    email = render_email("s", "Dear {name},\n\nYour policy & plan {{renews}}.\r\nThanks", {"name": "A<b>"})
    assert email.html == "Dear A&lt;b&gt;,<br>\n<br>\nYour policy &amp; plan {renews}.<br>\nThanks"
    assert email.text == "Dear A<b>,\n\nYour policy & plan {renews}.\nThanks"


def test_a_value_that_looks_like_a_tag_does_not_turn_text_content_into_html() -> None:
    email = render_email("s", "Hi {name}\nbye", {"name": "<i>x</i>"})
    assert email.html == "Hi &lt;i&gt;x&lt;/i&gt;<br>\nbye"


def test_rendered_email_carries_the_three_parts() -> None:
    email = render_email("S {a}", "<div>{a}</div>", {"a": "1"})
    assert email == RenderedEmail(subject="S 1", html="<div>1</div>", text="1")


# --- the plain-text alternative --------------------------------------------------------------------------------


def test_blocks_become_lines_and_blank_runs_collapse() -> None:
    markup = (
        "<h1>Renewal</h1>\n<p>Dear  Asha,\n   your policy</p><p>renews.</p><div>Line</div><br><br><br>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"
    )
    assert html_to_text(markup) == "Renewal\n\nDear Asha, your policy\n\nrenews.\n\nLine\n\none\ntwo\n\na b\nc"


def test_links_show_their_address_unless_the_text_is_the_address() -> None:
    markup = (
        '<p><a href="https://pay.test/r?a=1&amp;b=2">Pay now</a> or <a href="https://pay.test">https://pay.test</a>'
        ' or <a href="mailto:help@x.test">help@x.test</a> or <a href="mailto:help@x.test">write</a>'
        ' <a href="https://img.test"><img src="i.png"></a> <a href="#top">top</a> <a>plain</a></p>'
    )
    assert html_to_text(markup) == (
        "Pay now (https://pay.test/r?a=1&b=2) or https://pay.test or help@x.test or write (mailto:help@x.test)"
        " https://img.test top plain"
    )


def test_scripts_styles_and_head_are_dropped_and_entities_unescaped() -> None:
    markup = (
        "<html><head><title>T</title><style>p { color: red }</style></head>"
        "<body><script>var x = '<p>no</p>';</script><p>Tom &amp; Jerry &lt;3 &eacute;&#233;</p></body></html>"
    )
    assert html_to_text(markup) == "Tom & Jerry <3 éé"


def test_lines_are_stripped_and_edges_trimmed() -> None:
    assert html_to_text("\n\n   <p>  a  </p>\n\n\n<p>\tb </p>   \n") == "a\n\nb"
    assert html_to_text("") == ""


@given(st.text(alphabet=st.sampled_from("ab <>&\"'\n{}"), max_size=30))
def test_any_value_in_html_content_comes_back_as_text_never_markup(value: str) -> None:
    email = render_email("s", "<p>[{v}]</p>", {"v": value})
    assert "<" not in email.html[3:-4] and ">" not in email.html[3:-4]
    assert html_to_text(email.html).replace(" ", "") == "[" + "".join(value.split()) + "]"


def test_a_head_left_open_does_not_hide_the_body() -> None:
    assert html_to_text("<html><head><title>T</title><body><p>Visible</p></body></html>") == "Visible"
