//! Property tests: the parsers answer every input with a value or an error,
//! never a panic, and what they print parses back to the same tree.

use proptest::prelude::*;
use serde_json::{Number, json};

use super::{AttrPath, CORE_USER, CompValue, CompareOp, ENTERPRISE_USER, Filter, PatchPath};

/// Pieces of the grammar, including the awkward ones, to build near-filters.
const TOKENS: &[&str] = &[
    "userName",
    "emails",
    "name.givenName",
    "members",
    "value",
    "type",
    "not",
    "and",
    "or",
    "pr",
    "eq",
    "ne",
    "co",
    "sw",
    "ew",
    "gt",
    "ge",
    "lt",
    "le",
    "AND",
    "Or",
    "NOT",
    "true",
    "False",
    "null",
    "(",
    ")",
    "[",
    "]",
    ".",
    "\"x\"",
    "\"a\\\"b\"",
    "\"\\u00e9\"",
    "\"",
    "\\",
    "42",
    "-1.5e3",
    "0",
    "01",
    "-",
    "$ref",
    ":",
    "::",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:",
    "é",
    "\u{0}",
    "\t",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(TOKENS), prop::sample::select(&[" ", "", "  "][..])), 0..40)
        .prop_map(|parts| parts.into_iter().flat_map(|(token, space)| [token, space]).collect())
}

fn sample_resource() -> serde_json::Value {
    json!({
        "userName": "a@b.com", "active": true, "count": 3,
        "name": { "givenName": "A" },
        "emails": [{ "value": "a@b.com", "type": "work" }, { "value": 1 }],
        "members": [{ "value": "x", "$ref": null }],
        ENTERPRISE_USER: { "manager": { "value": "m" } },
        "meta": { "lastModified": "2011-05-13T04:42:34Z" }
    })
}

/// Parses `text` as a filter and a PATCH path; whatever parses must print
/// back to text that parses to the same tree.
fn check_round_trips(text: &str) -> Result<(), TestCaseError> {
    if let Ok(filter) = Filter::parse(text) {
        filter.matches(&sample_resource());
        let printed = filter.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(filter), "printed as {}", printed);
    }
    if let Ok(path) = PatchPath::parse(text) {
        let printed = path.to_string();
        prop_assert_eq!(PatchPath::parse(&printed), Ok(path), "printed as {}", printed);
    }
    if let Ok(path) = AttrPath::parse(text) {
        prop_assert_eq!(AttrPath::parse(&path.to_string()), Ok(path));
    }
    Ok(())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&["username", "value", "type", "not", "and", "or", "pr", "eq", "$ref", "x-y_z9"][..]).prop_map(str::to_owned),
        "[a-z][a-z0-9_$-]{0,8}",
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let schema = prop::sample::select(&[None, Some(CORE_USER), Some(ENTERPRISE_USER), Some("urn:x:y-1.0")][..]);
    (schema, name(), prop::option::of(name())).prop_map(|(schema, name, sub)| AttrPath {
        schema: schema.map(str::to_owned),
        name,
        sub,
    })
}

fn comparison(path: impl Strategy<Value = AttrPath>) -> impl Strategy<Value = Filter> {
    let value = prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(CompValue::Number)),
        any::<String>().prop_map(CompValue::String),
    ];
    let op = prop::sample::select(
        &[
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ][..],
    );
    (path, op, value, any::<bool>()).prop_map(|(path, op, value, present)| {
        let allowed = match &value {
            CompValue::String(_) => true,
            CompValue::Number(_) => !op.is_substring(),
            CompValue::Bool(_) | CompValue::Null => !op.is_substring() && !op.is_ordering(),
        };
        match (present, allowed) {
            (true, _) => Filter::Present(path),
            (false, true) => Filter::Compare { path, op, value },
            (false, false) => Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            },
        }
    })
}

fn logic(leaf: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let sub_attr = name().prop_map(|name| AttrPath {
        schema: None,
        name,
        sub: None,
    });
    let value_filter = logic(comparison(sub_attr).boxed());
    let attr = attr_path().prop_map(|path| AttrPath { sub: None, ..path });
    let value_path = (attr, value_filter).prop_map(|(attr, filter)| Filter::ValuePath {
        attr,
        filter: Box::new(filter),
    });
    logic(prop_oneof![3 => comparison(attr_path()), 1 => value_path].boxed())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_round_trips(&text)?;
    }

    #[test]
    fn near_filters_never_panic(text in token_soup()) {
        check_round_trips(&text)?;
        check_round_trips(&format!("emails[{text}].value"))?;
        check_round_trips(&format!("userName eq \"x\" and ({text})"))?;
    }

    #[test]
    fn printed_filters_parse_back(filter in filter()) {
        let printed = filter.to_string();
        prop_assert_eq!(Filter::parse(&printed), Ok(filter), "printed as {}", printed);
    }
}
