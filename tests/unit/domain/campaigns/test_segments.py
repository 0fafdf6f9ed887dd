"""The segment filter language: parsing and normalising, every error at once, limits, descriptions, evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.campaigns.segments import (
    FIELDS,
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_LIST,
    OPERATORS,
    And,
    Condition,
    FieldType,
    Not,
    Or,
    describe,
    evaluate,
    parse_filter,
    referenced_tables,
)
from domain.shared.errors import ValidationFailed

TODAY = date(2025, 5, 10)


def cond(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"field": field, "op": op, **({} if value is None else {"value": value}), **extra}


def errors_of(obj: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_filter(obj, TODAY)
    return {d.field: d.message for d in caught.value.details}


ISSUE_EXAMPLE = {"all": [
    cond("policy.renewal_date", "between", ["2025-06-01", "2025-06-30"]),
    cond("policy.policy_type", "in", ["Motor", "Health", "Motor"]),
    cond("case.status", "eq", "new"),
    cond("customer.branch", "eq", "MUM01"),
    cond("policy.premium_amount", "gt", "25000.50"),
    cond("case.last_contact_date", "older_than_days", 30),
]}


def test_the_issue_example_parses_into_a_normalised_tree() -> None:
    parsed = parse_filter(ISSUE_EXAMPLE, TODAY)
    assert parsed == And((
        Condition("policy.renewal_date", "between", (date(2025, 6, 1), date(2025, 6, 30))),
        Condition("policy.policy_type", "in", ("Motor", "Health")),  # duplicates dropped, order kept
        Condition("case.status", "eq", "new"),
        Condition("customer.branch", "eq", "MUM01"),
        Condition("policy.premium_amount", "gt", Decimal("25000.50")),
        Condition("case.last_contact_date", "older_than_days", date(2025, 4, 10), days=30),
    ))


def test_relative_days_become_concrete_dates_from_today() -> None:
    ahead = parse_filter(cond("policy.renewal_date", "within_days", 30), TODAY)
    back = parse_filter(cond("case.last_contact_date", "within_days", -7), TODAY)
    older = parse_filter(cond("customer.created_at", "older_than_days", 365), date(2024, 3, 1))
    assert isinstance(ahead, Condition) and ahead.value == (TODAY, date(2025, 6, 9)) and ahead.days == 30
    assert ahead.comparison == ("between", (TODAY, date(2025, 6, 9)))
    assert isinstance(back, Condition) and back.value == (date(2025, 5, 3), TODAY)
    assert isinstance(older, Condition) and older.comparison == ("lt", date(2023, 3, 2))  # 2024 is a leap year


def test_numbers_are_normalised_by_the_field_type() -> None:
    premium = parse_filter(cond("policy.premium_amount", "between", [1000, 2500.75]), TODAY)
    attempts = parse_filter(cond("case.communication_attempts", "lte", 3), TODAY)
    assert isinstance(premium, Condition) and premium.value == (Decimal("1000"), Decimal("2500.75"))
    assert all(isinstance(v, Decimal) for v in premium.value)  # type: ignore[union-attr]
    assert attempts == Condition("case.communication_attempts", "lte", 3)


def test_is_null_defaults_to_true_and_takes_false() -> None:
    assert parse_filter(cond("case.assigned_to", "is_null"), TODAY) == Condition("case.assigned_to", "is_null", True)
    assert parse_filter(cond("case.assigned_to", "is_null", False), TODAY) == Condition(
        "case.assigned_to", "is_null", False)


def test_groups_nest() -> None:
    obj = {"any": [cond("case.priority", "eq", "urgent"),
                   {"not": {"all": [cond("customer.city", "contains", "mum")]}}]}
    assert parse_filter(obj, TODAY) == Or((
        Condition("case.priority", "eq", "urgent"),
        Not(And((Condition("customer.city", "contains", "mum"),))),
    ))


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = errors_of({"all": [
        cond("policy.renewal_date", "between", ["2025-06-31", "2025-06-01"]),
        cond("policy.colour", "eq", "red"),
        cond("policy.policy_type", "gt", "Motor"),
        cond("case.assigned_to", "in", [3, "seven", True]),
        {"field": "case.status", "op": "eq"},
        {"any": []},
        "not a condition",
        cond("case.status", "eq", "new", extra=1),
    ]})
    assert set(found) == {
        "filter.all[0].value[0]", "filter.all[1].field", "filter.all[2].op", "filter.all[3].value[1]",
        "filter.all[3].value[2]", "filter.all[4].value", "filter.all[5].any", "filter.all[6]", "filter.all[7].extra",
    }
    assert "YYYY-MM-DD" in found["filter.all[0].value[0]"]
    assert "policy.renewal_date" in found["filter.all[1].field"]  # it lists the fields that exist
    assert "'gt' does not apply" in found["filter.all[2].op"] and "contains" in found["filter.all[2].op"]


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (cond("policy.renewal_date", "between", ["2025-06-30", "2025-06-01"]), "filter.value", "low bound is above"),
    (cond("policy.renewal_date", "between", ["2025-06-30"]), "filter.value", "[low, high]"),
    (cond("policy.policy_type", "in", []), "filter.value", f"1 to {MAX_LIST}"),
    (cond("policy.policy_type", "in", "Motor"), "filter.value", "list"),
    (cond("policy.policy_type", "eq", "   "), "filter.value", "non-blank"),
    (cond("policy.policy_type", "eq", "x" * 256), "filter.value", "255"),
    (cond("policy.premium_amount", "gt", "12abc"), "filter.value", "number"),
    (cond("policy.premium_amount", "gt", float("nan")), "filter.value", "number"),
    (cond("policy.premium_amount", "gt", True), "filter.value", "number"),
    (cond("policy.premium_amount", "gt", 10**13), "filter.value", "number"),
    (cond("case.communication_attempts", "gt", -1), "filter.value", "whole number"),
    (cond("case.communication_attempts", "gt", 2.5), "filter.value", "whole number"),
    (cond("policy.end_date", "eq", "20250601"), "filter.value", "YYYY-MM-DD"),
    (cond("policy.end_date", "eq", "2025-02-29"), "filter.value", "YYYY-MM-DD"),
    (cond("policy.end_date", "older_than_days", -3), "filter.value", "zero or more"),
    (cond("policy.end_date", "within_days", "30"), "filter.value", "whole number of days"),
    (cond("case.last_contact_date", "within_days", 7), "filter.value", "use -7"),
    (cond("case.assigned_to", "is_null", "yes"), "filter.value", "true"),
    (cond("case.status", "resembles", "new"), "filter.op", "must be one of"),
    ({"field": "case.status", "value": "new"}, "filter.op", "is required"),
    ({"op": "eq", "value": "new"}, "filter.field", "is required"),
    ({"all": [cond("case.status", "eq", "new")], "any": []}, "filter", "exactly one key"),
    ({"all": {"field": "case.status"}}, "filter.all", "non-empty list"),
    ([cond("case.status", "eq", "new")], "filter", "must be an object"),
])
def test_each_rule_names_the_offending_field(obj: object, path: str, fragment: str) -> None:
    found = errors_of(obj)
    assert path in found, found
    assert fragment in found[path]


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = cond("case.status", "eq", "new")
    for level in range(depth):
        node = {("all", "any", "not")[level % 3]: node if level % 3 == 2 else [node]}
    return node


def test_groups_may_nest_five_deep_but_not_six() -> None:
    assert parse_filter(nested(MAX_DEPTH), TODAY)
    found = errors_of(nested(MAX_DEPTH + 1))
    assert len(found) == 1 and "5 deep" in next(iter(found.values()))


def test_at_most_fifty_conditions() -> None:
    assert parse_filter({"any": [cond("case.status", "eq", f"s{i}") for i in range(MAX_CONDITIONS)]}, TODAY)
    found = errors_of({"any": [cond("case.status", "eq", f"s{i}") for i in range(MAX_CONDITIONS + 1)]})
    assert found == {"filter": f"has {MAX_CONDITIONS + 1} conditions; at most {MAX_CONDITIONS} are allowed"}


def test_lists_hold_at_most_five_hundred_values() -> None:
    assert parse_filter(cond("case.assigned_to", "in", list(range(MAX_LIST))), TODAY)
    assert "filter.value" in errors_of(cond("case.assigned_to", "not_in", list(range(MAX_LIST + 1))))


def test_every_field_accepts_exactly_its_type_operators() -> None:
    samples = {FieldType.STR: "x", FieldType.INT: 1, FieldType.DECIMAL: 1, FieldType.DATE: "2025-01-01"}
    every_op = set().union(*OPERATORS.values())
    for name, spec in FIELDS.items():
        for op in sorted(every_op):
            value: Any = {"in": [samples[spec.type]], "not_in": [samples[spec.type]],
                          "between": [samples[spec.type]] * 2, "is_null": True,
                          "older_than_days": 1, "within_days": -1}.get(op, samples[spec.type])
            obj = cond(name, op, value)
            if op in OPERATORS[spec.type]:
                assert parse_filter(obj, TODAY).field == name  # type: ignore[union-attr]
            else:
                assert "filter.op" in errors_of(obj)


def test_referenced_tables() -> None:
    assert referenced_tables(parse_filter(ISSUE_EXAMPLE, TODAY)) == {
        "policies", "renewal_cases", "branches"}
    assert referenced_tables(parse_filter({"not": cond("customer.city", "eq", "Pune")}, TODAY)) == {"customers"}


def test_describe_reads_as_a_sentence() -> None:
    text = describe(parse_filter({"all": [
        cond("policy.renewal_date", "within_days", 30),
        cond("policy.policy_type", "in", ["Motor", "Health", "Travel"]),
        {"any": [cond("case.status", "eq", "new"), cond("case.assigned_to", "is_null")]},
        {"not": cond("policy.premium_amount", "gte", 50000)},
        cond("case.last_contact_date", "older_than_days", 30),
        cond("customer.created_at", "lt", "2020-01-01"),
    ]}, TODAY))
    assert text == (
        'renewal date is within the next 30 days (2025-05-10 to 2025-06-09) and policy type is one of "Motor", '
        '"Health" or "Travel" and (case status is "new" or assigned user is empty) and not (premium is at least '
        '50000) and last contact is more than 30 days ago (before 2025-04-10) and customer since is before 2020-01-01'
    )


def test_describe_shortens_long_lists() -> None:
    text = describe(parse_filter(cond("case.assigned_to", "not_in", list(range(1, 26))), TODAY))
    assert text == "assigned user is none of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 or 15 more"


RENEWING = parse_filter({"all": [
    cond("policy.renewal_date", "within_days", 30),
    {"any": [cond("case.status", "in", ["new", "contacted"]), cond("case.assigned_to", "is_null")]},
    {"not": cond("customer.city", "contains", "MUM")},
]}, TODAY)


@pytest.mark.parametrize(("record", "matches"), [
    ({"policy.renewal_date": TODAY + timedelta(days=30), "case.status": "new", "customer.city": "Pune"}, True),
    ({"policy.renewal_date": TODAY + timedelta(days=31), "case.status": "new", "customer.city": "Pune"}, False),
    ({"policy.renewal_date": TODAY, "case.status": "closed", "case.assigned_to": 4, "customer.city": "Pune"}, False),
    ({"policy.renewal_date": TODAY, "case.status": "closed", "customer.city": "Pune"}, True),  # unassigned
    ({"policy.renewal_date": TODAY, "case.status": "new", "customer.city": "Navi Mumbai"}, False),  # ILIKE
    ({"policy.renewal_date": TODAY, "case.status": "new"}, False),  # NOT (NULL ILIKE ..) is unknown: no match
    ({"case.status": "new", "customer.city": "Pune"}, False),
])
def test_evaluate_follows_sql_semantics(record: dict[str, object], matches: bool) -> None:
    assert evaluate(RENEWING, record) is matches


def test_a_null_never_matches_a_comparison_but_matches_is_null() -> None:
    for op, value in [("eq", "x"), ("ne", "x"), ("in", ["x"]), ("not_in", ["x"]), ("contains", "x")]:
        parsed = parse_filter(cond("customer.state", op, value), TODAY)
        assert not evaluate(parsed, {}) and not evaluate(Not(parsed), {})
    assert evaluate(parse_filter(cond("customer.state", "is_null"), TODAY), {})
    assert evaluate(parse_filter(cond("customer.state", "is_null", False), TODAY), {"customer.state": "Goa"})


amounts = st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


@given(low=amounts, high=amounts, actual=amounts)
def test_between_is_inclusive_and_agrees_with_gte_and_lte(low: Decimal, high: Decimal, actual: Decimal) -> None:
    low, high = min(low, high), max(low, high)
    between = parse_filter(cond("policy.premium_amount", "between", [str(low), str(high)]), TODAY)
    both = parse_filter({"all": [cond("policy.premium_amount", "gte", str(low)),
                                 cond("policy.premium_amount", "lte", str(high))]}, TODAY)
    record = {"policy.premium_amount": actual}
    assert evaluate(between, record) == evaluate(both, record) == (low <= actual <= high)


@given(days=st.integers(min_value=-400, max_value=400), offset=st.integers(min_value=-800, max_value=800))
def test_within_days_covers_exactly_the_days_between_today_and_today_plus_n(days: int, offset: int) -> None:
    parsed = parse_filter(cond("policy.end_date", "within_days", days), TODAY)
    inside = min(0, days) <= offset <= max(0, days)
    assert evaluate(parsed, {"policy.end_date": TODAY + timedelta(days=offset)}) is inside


@given(days=st.integers(min_value=0, max_value=400), offset=st.integers(min_value=-800, max_value=10))
def test_older_than_days_means_strictly_more_than_n_days_ago(days: int, offset: int) -> None:
    parsed = parse_filter(cond("case.last_contact_date", "older_than_days", days), TODAY)
    assert evaluate(parsed, {"case.last_contact_date": TODAY + timedelta(days=offset)}) is (offset < -days)


truth = st.sampled_from([True, False, None])


@given(a=truth, b=truth)
def test_groups_follow_kleene_logic_like_sql(a: bool | None, b: bool | None) -> None:
    """Each leaf is true, false or unknown (its field missing); a row matches only when the whole is true."""
    first = Condition("case.priority", "eq", "high")
    second = Condition("case.status", "eq", "new")
    record: dict[str, object] = {}
    if a is not None:
        record["case.priority"] = "high" if a else "low"
    if b is not None:
        record["case.status"] = "new" if b else "closed"
    assert evaluate(And((first, second)), record) is (a is True and b is True)
    assert evaluate(Or((first, second)), record) is (a is True or b is True)
    assert evaluate(Not(And((first, second))), record) is (a is False or b is False)
    assert evaluate(Not(Or((first, second))), record) is (a is False and b is False)
    assert evaluate(Not(And((first, second))), record) == evaluate(Or((Not(first), Not(second))), record)
    assert evaluate(Not(Not(first)), record) is (a is True)  # not(not(unknown)) is still unknown
