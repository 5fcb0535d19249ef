//! A resolved SCIM filter ([`Query`]) as one SQL condition over
//! `accounts a LEFT JOIN scim_users s`, with its values bound, never spliced.
//!
//! Every condition it writes is true or false, never NULL (each comparison
//! first requires its column to be present), so `not (…)` negates exactly
//! as the filter evaluator does: an absent attribute matches only `ne`.
//! Case-insensitive strings compare through `LOWER` on both sides; orderings
//! use code point order (`COLLATE "C"` on PostgreSQL, SQLite's default).

use onramp_domain::scim::CompareOp;
use onramp_domain::scim::query::{Attributes, Kind, Literal, Query};

use onramp_domain::store::StoreError;

use crate::Backend;
use crate::db::Query as Statement;

/// A value to bind, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Where an attribute is read: the resource's row, or one element of a
/// multi-valued attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Row,
    /// The primary email: the account's own.
    PrimaryEmail,
    /// Another email, kept in `s.attributes` (`j`), never primary.
    KeptEmail,
    /// A group's member (`m`, its account `ma`).
    Member,
}

/// How one resource type's attributes are read in SQL.
pub(crate) trait Columns: Attributes + PartialEq {
    /// The SQL expression of `attr` in `scope`.
    fn column(self, scope: Scope, backend: Backend) -> String;
    /// For `eq` on an attribute with an index of canonical values: the
    /// indexed column and the value in canonical form.
    fn indexed_eq(self, scope: Scope, text: &str) -> Option<(&'static str, String)>;
    /// "Some element of the multi-valued `attr` matches `query`".
    fn within(w: &mut Writer, attr: Self, query: &Query<Self>) -> String;
}

/// Writes conditions, numbering placeholders from `first`.
pub(crate) struct Writer {
    backend: Backend,
    first: usize,
    pub(crate) binds: Vec<Bind>,
}

impl Writer {
    pub(crate) fn new(backend: Backend, first: usize) -> Self {
        Self {
            backend,
            first,
            binds: Vec::new(),
        }
    }

    /// The condition `query` stands for.
    pub(crate) fn write<A: Columns>(&mut self, query: &Query<A>) -> String {
        self.condition(query, Scope::Row)
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.first + self.binds.len() - 1)
    }

    pub(crate) fn condition<A: Columns>(&mut self, query: &Query<A>, scope: Scope) -> String {
        match query {
            Query::All(operands) => self.joined(operands, " AND ", scope),
            Query::Any(operands) => self.joined(operands, " OR ", scope),
            Query::Not(inner) => format!("NOT ({})", self.condition(inner, scope)),
            Query::Present(attr) => self.present(*attr, scope),
            Query::Compare { attr, op, value } => self.compare(*attr, *op, value, scope),
            Query::Within { attr, query } => A::within(self, *attr, query),
        }
    }

    fn joined<A: Columns>(&mut self, operands: &[Query<A>], separator: &str, scope: Scope) -> String {
        let parts: Vec<String> = operands.iter().map(|q| format!("({})", self.condition(q, scope))).collect();
        format!("({})", parts.join(separator))
    }

    fn present<A: Columns>(&mut self, attr: A, scope: Scope) -> String {
        let column = attr.column(scope, self.backend);
        match attr.kind() {
            Kind::Text { .. } => format!("({column} IS NOT NULL AND {column} <> '')"),
            _ => format!("({column} IS NOT NULL)"),
        }
    }

    fn compare<A: Columns>(&mut self, attr: A, op: CompareOp, value: &Literal, scope: Scope) -> String {
        let column = attr.column(scope, self.backend);
        if op == CompareOp::Ne {
            // Absent matches `ne`: the negation of a guarded `eq`.
            return format!("NOT ({})", self.compare(attr, CompareOp::Eq, value, scope));
        }
        if let (Literal::Text(text), CompareOp::Eq) = (value, op)
            && let Some((indexed, canonical)) = attr.indexed_eq(scope, text)
        {
            return format!("{indexed} = {}", self.bind(Bind::Text(canonical)));
        }
        let test = match value {
            Literal::Bool(b) => format!("{column} = {}", self.bind(Bind::Int(i64::from(*b)))),
            Literal::Instant(ms) => format!("{column} {} {}", symbol(op), self.bind(Bind::Int(*ms))),
            Literal::Text(text) => {
                let case_exact = matches!(attr.kind(), Kind::Text { case_exact: true });
                self.text(&column, op, text, case_exact)
            }
        };
        format!("({column} IS NOT NULL AND {test})")
    }

    fn text(&mut self, column: &str, op: CompareOp, text: &str, case_exact: bool) -> String {
        let collate = match self.backend {
            Backend::Postgres => " COLLATE \"C\"",
            Backend::Sqlite => "",
        };
        if op.is_substring() {
            return self.substring(column, op, text, case_exact);
        }
        let mark = self.bind(Bind::Text(text.to_owned()));
        let (left, right) = if case_exact {
            (column.to_owned(), mark)
        } else {
            (format!("LOWER({column})"), format!("LOWER({mark})"))
        };
        format!("{left}{collate} {} {right}", symbol(op))
    }

    fn substring(&mut self, column: &str, op: CompareOp, text: &str, case_exact: bool) -> String {
        if !case_exact {
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = match op {
                CompareOp::Sw => format!("{escaped}%"),
                CompareOp::Ew => format!("%{escaped}"),
                _ => format!("%{escaped}%"),
            };
            let mark = self.bind(Bind::Text(pattern));
            return format!("LOWER({column}) LIKE LOWER({mark}) ESCAPE '\\'");
        }
        // SQLite's LIKE ignores ASCII case: case-exact tests compare substrings.
        let mark = self.bind(Bind::Text(text.to_owned()));
        match op {
            CompareOp::Sw => format!("substr({column}, 1, length({mark})) = {mark}"),
            CompareOp::Ew => {
                format!("(length({column}) >= length({mark}) AND substr({column}, length({column}) - length({mark}) + 1) = {mark})")
            }
            _ => match self.backend {
                Backend::Sqlite => format!("instr({column}, {mark}) > 0"),
                Backend::Postgres => format!("strpos({column}, {mark}) > 0"),
            },
        }
    }
}

fn symbol(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Ne => "<>",
        _ => "=",
    }
}

/// `query` with `binds` bound in order.
pub(crate) fn bind_all<'q>(mut query: Statement<'q>, binds: &[Bind]) -> Statement<'q> {
    for value in binds {
        query = match value {
            Bind::Text(text) => query.bind(text.clone()),
            Bind::Int(n) => query.bind(*n),
        };
    }
    query
}

/// Runs `SELECT COUNT(*) …` with `$1` the environment and `binds` after it.
pub(crate) async fn count(pool: &sqlx::AnyPool, sql: String, env_id: &str, binds: &[Bind]) -> Result<u64, StoreError> {
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(env_id.to_owned());
    for value in binds {
        count = match value {
            Bind::Text(text) => count.bind(text.clone()),
            Bind::Int(n) => count.bind(*n),
        };
    }
    let n = count.fetch_one(pool).await.map_err(crate::map_err)?;
    Ok(u64::try_from(n).unwrap_or(0))
}
