//! The filter-grammar table: valid filters with their match against sample
//! resources shaped like Okta's and Entra's, invalid ones with their error,
//! and the PATCH paths these clients send.

use serde_json::{Value, json};

use super::{AttrPath, CompValue, CompareOp, ENTERPRISE_USER, Filter, FilterError, MAX_DEPTH, PatchPath, PathError};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
        "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "externalId": "00u1abcdEFGH",
        "userName": "Barbara.Jensen@example.com",
        "name": { "givenName": "Barbara", "familyName": "Jensen" },
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "locale": "",
        "nickName": null,
        "loginCount": 42,
        "emails": [
            { "value": "barbara.jensen@example.com", "type": "work", "primary": true },
            { "value": "babs@jensen.org", "type": "home" }
        ],
        "phoneNumbers": [],
        ENTERPRISE_USER: {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808d" }
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"a330bc54f0671c9\""
        }
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Group",
        "members": [
            { "value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen" },
            { "value": "902c246b-6245-4190-8e05-00816be7344a" }
        ]
    })
}

/// A filter, the resource it is matched against, and whether it matches.
type MatchCase = (&'static str, fn() -> Value, bool);

#[test]
fn valid_filters_match_as_the_rfc_says() {
    #[rustfmt::skip]
    let table: &[MatchCase] = &[
        // What Okta sends.
        (r#"userName eq "barbara.jensen@example.com""#, user, true),
        (r#"userName eq "a@b.com""#, user, false),
        (r#"externalId eq "00u1abcdEFGH""#, user, true),
        (r#"externalId eq "00u1abcdefgh""#, user, false),
        // What Entra sends: a random GUID for its test connection.
        (r#"userName eq "7ff3ad42-c8a4-44b1-9b2c-5a9f0e1d2c3b""#, user, false),
        (r#"displayName eq "Group""#, group, true),
        (r#"displayName eq "group""#, group, true),
        (r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#, group, true),
        (r#"members[value eq "00000000-0000-0000-0000-000000000000"]"#, group, false),
        (r#"emails[type eq "work"].value eq "barbara.jensen@example.com""#, user, true),
        (r#"emails[type eq "home"].value eq "barbara.jensen@example.com""#, user, false),
        (r#"meta.lastModified gt "2011-05-13T04:42:33Z""#, user, true),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, user, false),
        (r#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#, user, true),
        (r#"meta.created lt "2010-01-23T04:56:22.5Z""#, user, true),
        (r#"title pr and userType eq "Employee""#, user, true),
        (r#"not (userName eq "x")"#, user, true),
        (r#"not(userName eq "barbara.jensen@example.com")"#, user, false),
        // Operators, keywords and names in any casing.
        (r#"USERNAME Eq "BARBARA.JENSEN@EXAMPLE.COM""#, user, true),
        (r#"name.givenName sw "bar""#, user, true),
        (r#"name.FAMILYNAME ew "SEN""#, user, true),
        (r#"userName co "jensen@""#, user, true),
        (r#"userName ne "x""#, user, true),
        (r#"active eq true"#, user, true),
        (r#"active Eq FALSE"#, user, false),
        (r#"loginCount gt 41 and loginCount le 42.0"#, user, true),
        (r#"loginCount eq 42"#, user, true),
        (r#"loginCount eq "42""#, user, false),
        // Multi-valued: any value; a complex value stands for its `value`.
        (r#"emails.value ew "jensen.org""#, user, true),
        (r#"emails co "jensen.org""#, user, true),
        (r#"emails.type eq "other""#, user, false),
        (r#"emails[type eq "work" and value co "@example.com"] or emails[type eq "xmpp"]"#, user, true),
        (r#"emails[type eq "home" and primary eq true]"#, user, false),
        (r#"emails[not (type eq "work")]"#, user, true),
        (r#"emails[type eq "work"].primary eq true"#, user, true),
        // Presence: null, "" and [] are absent.
        (r#"title pr"#, user, true),
        (r#"locale pr"#, user, false),
        (r#"nickName pr"#, user, false),
        (r#"phoneNumbers pr"#, user, false),
        (r#"x509Certificates pr"#, user, false),
        (r#"name pr"#, user, true),
        (r#"nickName eq null"#, user, true),
        (r#"title ne null"#, user, true),
        (r#"missing ne "x""#, user, true),
        (r#"missing eq "x""#, user, false),
        // Precedence: `and` before `or`, parentheses override.
        (r#"userName eq "x" and title pr or active eq true"#, user, true),
        (r#"userName eq "x" and (title pr or active eq true)"#, user, false),
        (r#"title pr or userName eq "x" and active eq false"#, user, true),
        (r#"((((userName pr))))"#, user, true),
        (r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#, user, false),
        // Schema URNs: core at the top level, extensions under their key.
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "barbara.jensen@example.com""#, user, true),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations""#, user, true),
        (r#"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:employeeNumber eq "701984""#, user, true),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value sw "26118915""#, user, true),
        (r#"urn:ietf:params:scim:schemas:extension:other:2.0:User:department pr"#, user, false),
        (r#"department pr"#, user, false),
        // Case-exact attributes (RFC 7643): id, externalId, meta.version.
        (r#"id eq "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B""#, user, false),
        (r#"meta.version eq "W/\"a330bc54f0671c9\"""#, user, true),
        (r#"meta.version eq "w/\"A330BC54F0671C9\"""#, user, false),
        // String escapes and whitespace.
        ("displayName eq \"Babs\\u0020Jensen\"", user, true),
        ("  displayName\teq \"Babs Jensen\"  ", user, true),
        (r#"displayName gt "Babs" and displayName lt "babt""#, user, true),
    ];
    for (text, resource, expected) in table {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(filter.matches(&resource()), *expected, "{text} parsed as {filter:?}");
        let again = Filter::parse(&filter.to_string()).unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(again, filter, "{text} displayed as {filter}");
    }
}

#[test]
fn invalid_filters_are_refused() {
    #[rustfmt::skip]
    let table: &[&str] = &[
        "", "   ", "userName", "userName eq", r#"eq "x""#, r#"userName = "x""#,
        "userName eq bjensen", r#"userName eq 'x'"#, r#"userName eq "x"#, r#"userName eq "\x""#,
        "userName eq \"a\u{1}b\"", r#"userName xx "x""#, r#"userName eq "x" and"#, r#"or userName pr"#,
        r#"userName eq "x" userName pr"#, r#"(userName pr"#, r#"userName pr)"#, "()",
        r#"not userName eq "x""#, r#"not (userName eq "x""#, "emails[type eq \"work\"", "emails[]",
        r#"emails[type eq "work"]]"#, r#"emails[type[value pr]]"#, r#"emails[name.givenName pr]"#,
        r#"emails[urn:ietf:params:scim:schemas:core:2.0:User:type pr]"#, r#"name.givenName[value pr]"#,
        r#"emails[type eq "work"].value"#, r#"emails[type eq "work"]."#, r#"emails[type eq "work"].value.x pr"#,
        "name.givenName.x pr", "1userName pr", "user*Name pr", "urn:x pr", "foo:userName pr", "urn:a::b:c pr",
        "urn:ietf:params:scim:schemas:core:2.0:User: pr", "active gt true", "active lt false", "title gt null",
        "title co 1", "title sw true", "title ew null", "loginCount eq 1.2.3", "loginCount eq -", "loginCount eq 01",
        "loginCount eq 1e999", r#"userName eq "x" & title pr"#, "userName pr;", "userName eq \"é\" ünïcode pr",
        "emails[type eq \"work\"]].value eq \"x\"",
    ];
    for text in table {
        assert!(Filter::parse(text).is_err(), "{text:?} parsed as {:?}", Filter::parse(text));
    }
}

#[test]
fn filters_parse_to_the_expected_tree() {
    let user_name = AttrPath::simple("userName");
    assert_eq!(
        Filter::parse(r#"UserName EQ "A@B.com""#),
        Ok(Filter::Compare {
            path: user_name.clone(),
            op: CompareOp::Eq,
            value: CompValue::String("A@B.com".into())
        })
    );
    let department = Filter::parse(&format!("{ENTERPRISE_USER}:manager.Value pr")).unwrap();
    assert_eq!(
        department,
        Filter::Present(AttrPath {
            schema: Some(ENTERPRISE_USER.to_owned()),
            name: "manager".into(),
            sub: Some("value".into())
        })
    );
    // `and` binds tighter than `or`, and chains stay flat.
    let Filter::Or(operands) = Filter::parse("a pr and b pr or c pr or d pr and e pr and f pr").unwrap() else {
        panic!("expected or")
    };
    assert_eq!(operands.len(), 3);
    assert!(matches!(&operands[2], Filter::And(and) if and.len() == 3));
    // The sub-attribute after `]` joins the value filter.
    assert_eq!(
        Filter::parse(r#"emails[type eq "work"].value eq "x""#),
        Filter::parse(r#"emails[type eq "work" and value eq "x"]"#)
    );
    // An attribute may be called `not`.
    assert_eq!(Filter::parse("not pr"), Ok(Filter::Present(AttrPath::simple("not"))));
    assert_eq!(
        Filter::parse("meta.lastModified gt \"2011-05-13T04:42:34Z\"").unwrap().to_string(),
        r#"meta.lastmodified gt "2011-05-13T04:42:34Z""#
    );
}

#[test]
fn errors_say_what_is_wrong_without_internals() {
    let cases = [
        ("userName eq bjensen", "unexpected `bjensen` at column 13: expected a value"),
        (r#"active gt true"#, "`gt` at column 11 cannot compare with a boolean"),
        (r#"userName eq "x"#, "unterminated string at column 13"),
        ("not userName pr", "expected `(` after `not`"),
        ("emails[type[value pr]]", "value filters `[...]` do not nest"),
    ];
    for (text, message) in cases {
        let error = Filter::parse(text).unwrap_err().to_string();
        assert!(error.contains(message), "{text}: {error}");
    }
}

#[test]
fn limits_are_errors_not_crashes() {
    let long = format!(r#"userName eq "{}""#, "x".repeat(super::MAX_INPUT_BYTES));
    assert_eq!(
        Filter::parse(&long),
        Err(FilterError::TooLong {
            max: super::MAX_INPUT_BYTES
        })
    );
    let deep = |n: usize| format!("{}userName pr{}", "(".repeat(n), ")".repeat(n));
    assert!(Filter::parse(&deep(MAX_DEPTH)).is_ok());
    assert_eq!(Filter::parse(&deep(MAX_DEPTH + 1)), Err(FilterError::TooDeep { max: MAX_DEPTH }));
    assert!(Filter::parse(&"not (".repeat(4000)).is_err());
    assert!(Filter::parse(&"(".repeat(8000)).is_err());
    // A long flat chain is fine: it does not nest.
    let chain = vec!["a pr"; 800].join(" and ");
    let filter = Filter::parse(&chain).unwrap();
    assert!(!filter.matches(&user()));
}

#[test]
fn case_exactness_can_be_chosen() {
    let filter = Filter::parse(r#"userName eq "BARBARA.JENSEN@example.com""#).unwrap();
    assert!(filter.matches(&user()));
    let exact_user_name = |path: &AttrPath| path.is("userName");
    assert!(!filter.matches_with(&user(), &exact_user_name));
    // Inside a value filter the schema sees the full path.
    let filter = Filter::parse(r#"emails[value eq "BABS@jensen.org"]"#).unwrap();
    assert!(filter.matches(&user()));
    assert!(!filter.matches_with(&user(), &|path: &AttrPath| path.is_sub("emails", "value")));
}

#[test]
fn patch_paths_from_okta_and_entra_parse() {
    let attr = |s: &str| PatchPath::Attr(AttrPath::parse(s).unwrap());
    assert_eq!(PatchPath::parse("active"), Ok(attr("active")));
    assert_eq!(PatchPath::parse("members"), Ok(attr("members")));
    assert_eq!(
        PatchPath::parse("name.givenName"),
        Ok(PatchPath::Attr(AttrPath {
            schema: None,
            name: "name".into(),
            sub: Some("givenname".into())
        }))
    );
    assert_eq!(
        PatchPath::parse(&format!("{ENTERPRISE_USER}:manager.value")),
        Ok(PatchPath::Attr(AttrPath {
            schema: Some(ENTERPRISE_USER.to_owned()),
            name: "manager".into(),
            sub: Some("value".into())
        }))
    );
    assert!(matches!(
        PatchPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
        Ok(PatchPath::Attr(AttrPath { schema: Some(s), name, sub: None })) if s == ENTERPRISE_USER && name == "department"
    ));
    let Ok(PatchPath::Filtered { attr, filter, sub }) = PatchPath::parse(r#"emails[type eq "work"].value"#) else {
        panic!("expected a value path")
    };
    assert_eq!((attr, sub.as_deref()), (AttrPath::simple("emails"), Some("value")));
    assert!(filter.matches(&json!({ "type": "Work", "value": "x" })));
    let members = PatchPath::parse(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
    assert!(matches!(&members, PatchPath::Filtered { sub: None, .. }));
    assert_eq!(members.attr(), &AttrPath::simple("members"));
    assert_eq!(members.to_string(), r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#);
    // A `]` inside the filter's string does not close it.
    assert!(PatchPath::parse(r#"emails[value eq "a]b"].display"#).is_ok());
}

#[test]
fn bad_patch_paths_are_refused_with_the_right_kind() {
    #[rustfmt::skip]
    let invalid_path = [
        "", "  ", "1abc", "name.givenName.x", "name.", ".name", "emails[type eq \"work\"",
        "emails[type eq \"work\"]value", "emails[type eq \"work\"].", "emails[type eq \"work\"].a.b",
        "name.givenName[value pr]", "[type pr]", "foo:bar", "emails]type pr[", "active eq true",
    ];
    for text in invalid_path {
        let error = PatchPath::parse(text).unwrap_err();
        assert!(!matches!(error, PathError::Filter(_)), "{text:?}: {error:?}");
    }
    #[rustfmt::skip]
    let invalid_filter = ["emails[]", "emails[type eq]", "emails[type[value pr]]", "members[value eq 'x']", "emails[a.b pr]"];
    for text in invalid_filter {
        let error = PatchPath::parse(text).unwrap_err();
        assert!(matches!(error, PathError::Filter(_)), "{text:?}: {error:?}");
    }
    assert!(matches!(
        PatchPath::parse(&"a".repeat(super::MAX_INPUT_BYTES + 1)),
        Err(PathError::TooLong { .. })
    ));
}
