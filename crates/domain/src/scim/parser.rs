//! Recursive descent over the tokens of [`super::lexer`]. Recursion happens
//! only at `(`, `not (` and `[`, each counted against [`MAX_DEPTH`], so no
//! input can exhaust the stack; `and`/`or` chains are loops.

use super::attr_path::{AttrPath, parse_attr_path};
use super::filter::{CompValue, CompareOp, Filter, FilterError};
use super::lexer::{Tok, Token, column, lex};
use super::{MAX_DEPTH, MAX_INPUT_BYTES};

/// Where the filter stands, which decides what its attribute paths may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A whole filter, over a resource.
    Resource,
    /// Inside `attr[...]`: plain sub-attribute names, no nested `[...]`.
    ValueFilter,
}

const EXPECTED_OPERAND: &str = "an attribute, `not (` or `(`";
const EXPECTED_OPERATOR: &str = "an operator (`eq`, `ne`, `co`, `sw`, `ew`, `gt`, `ge`, `lt`, `le` or `pr`)";
const EXPECTED_VALUE: &str = "a value (a JSON string, a number, `true`, `false` or `null`)";

pub(crate) fn parse(text: &str, scope: Scope) -> Result<Filter, FilterError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(FilterError::TooLong { max: MAX_INPUT_BYTES });
    }
    if text.trim().is_empty() {
        return Err(FilterError::Empty);
    }
    let tokens = lex(text)?;
    let mut parser = Parser {
        input: text,
        tokens: &tokens,
        pos: 0,
        depth: 0,
    };
    let filter = parser.or_expr(scope)?;
    match parser.peek() {
        None => Ok(filter),
        Some(token) => Err(parser.unexpected(Some(token), "`and`, `or` or the end of the filter")),
    }
}

struct Parser<'a> {
    input: &'a str,
    tokens: &'a [Token],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn peek_is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let token = self.tokens.get(self.pos);
        self.pos += 1;
        token
    }

    fn column(&self, token: Option<&Token>) -> usize {
        column(self.input, token.map_or(self.input.len(), |t| t.at))
    }

    fn unexpected(&self, token: Option<&Token>, expected: &'static str) -> FilterError {
        FilterError::Unexpected {
            column: self.column(token),
            found: token.map_or_else(|| "the end of the filter".to_owned(), |t| t.tok.describe()),
            expected,
        }
    }

    fn expect(&mut self, tok: &Tok, expected: &'static str) -> Result<(), FilterError> {
        let token = self.next();
        if token.is_some_and(|t| &t.tok == tok) {
            Ok(())
        } else {
            Err(self.unexpected(token, expected))
        }
    }

    /// Parses `inner` one nesting level deeper, refusing past [`MAX_DEPTH`].
    fn nested<T>(&mut self, inner: impl FnOnce(&mut Self) -> Result<T, FilterError>) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::TooDeep { max: MAX_DEPTH });
        }
        self.depth += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    fn or_expr(&mut self, scope: Scope) -> Result<Filter, FilterError> {
        let mut operands = vec![self.and_expr(scope)?];
        while self.peek().is_some_and(|t| t.tok.is_keyword("or")) {
            self.pos += 1;
            operands.push(self.and_expr(scope)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Filter::Or(operands)
        })
    }

    fn and_expr(&mut self, scope: Scope) -> Result<Filter, FilterError> {
        let mut operands = vec![self.unary(scope)?];
        while self.peek().is_some_and(|t| t.tok.is_keyword("and")) {
            self.pos += 1;
            operands.push(self.unary(scope)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            Filter::And(operands)
        })
    }

    fn unary(&mut self, scope: Scope) -> Result<Filter, FilterError> {
        let token = self.next();
        match token.map(|t| &t.tok) {
            Some(Tok::LParen) => self.parenthesised(scope),
            Some(Tok::Word(word)) if word.eq_ignore_ascii_case("not") && self.peek_is(&Tok::LParen) => {
                self.pos += 1;
                Ok(Filter::Not(Box::new(self.parenthesised(scope)?)))
            }
            // An attribute may be called `not`; anything else after `not`
            // is a forgotten parenthesis.
            Some(Tok::Word(word)) if word.eq_ignore_ascii_case("not") && !self.attribute_continues() => {
                Err(self.unexpected(self.peek(), "`(` after `not`"))
            }
            Some(Tok::Word(word)) => self.attr_expr(word, token.map_or(0, |t| t.at), scope),
            _ => Err(self.unexpected(token, EXPECTED_OPERAND)),
        }
    }

    /// Whether the next token continues an attribute expression: an
    /// operator or a value filter's `[`.
    fn attribute_continues(&self) -> bool {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Word(w)) => w.eq_ignore_ascii_case("pr") || CompareOp::from_keyword(w).is_some(),
            Some(Tok::LBracket) => true,
            _ => false,
        }
    }

    /// The rest of `( FILTER )`, the `(` already read.
    fn parenthesised(&mut self, scope: Scope) -> Result<Filter, FilterError> {
        self.nested(|p| {
            let inner = p.or_expr(scope)?;
            p.expect(&Tok::RParen, "`and`, `or` or `)`")?;
            Ok(inner)
        })
    }

    fn attr_path(&self, word: &str, at: usize, scope: Scope) -> Result<AttrPath, FilterError> {
        let column = column(self.input, at);
        let path = parse_attr_path(word).map_err(|reason| FilterError::InvalidAttrPath { column, reason })?;
        if scope == Scope::ValueFilter && (path.schema.is_some() || path.sub.is_some()) {
            return Err(FilterError::InvalidAttrPath {
                column,
                reason: "inside `[...]` an attribute is a plain sub-attribute name such as `value`",
            });
        }
        Ok(path)
    }

    fn attr_expr(&mut self, word: &str, at: usize, scope: Scope) -> Result<Filter, FilterError> {
        let path = self.attr_path(word, at, scope)?;
        if !self.peek_is(&Tok::LBracket) {
            return self.comparison(path);
        }
        if scope == Scope::ValueFilter {
            return Err(self.unexpected(self.peek(), "an operator: value filters `[...]` do not nest"));
        }
        if path.sub.is_some() {
            return Err(FilterError::InvalidAttrPath {
                column: column(self.input, at),
                reason: "a value filter `[...]` follows an attribute, not a sub-attribute",
            });
        }
        self.pos += 1;
        let inner = self.nested(|p| {
            let inner = p.or_expr(Scope::ValueFilter)?;
            p.expect(&Tok::RBracket, "`and`, `or` or `]`")?;
            Ok(inner)
        })?;
        let filter = if self.peek_is(&Tok::Dot) {
            // `emails[type eq "work"].value eq "x"`: the comparison joins the
            // value filter, on the same element.
            self.pos += 1;
            let token = self.next();
            let Some(Token { tok: Tok::Word(sub), at }) = token else {
                return Err(self.unexpected(token, "a sub-attribute name after `.`"));
            };
            let sub = self.attr_path(sub, *at, Scope::ValueFilter)?;
            let comparison = self.comparison(sub)?;
            match inner {
                Filter::And(mut operands) => {
                    operands.push(comparison);
                    Filter::And(operands)
                }
                other => Filter::And(vec![other, comparison]),
            }
        } else {
            inner
        };
        Ok(Filter::ValuePath {
            attr: path,
            filter: Box::new(filter),
        })
    }

    /// The rest of `attrExp`, the path already read.
    fn comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let token = self.next();
        let Some(Tok::Word(keyword)) = token.map(|t| &t.tok) else {
            return Err(self.unexpected(token, EXPECTED_OPERATOR));
        };
        if keyword.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(keyword) else {
            return Err(self.unexpected(token, EXPECTED_OPERATOR));
        };
        let token = self.next();
        let value = match token.map(|t| &t.tok) {
            Some(Tok::Str(s)) => CompValue::String(s.clone()),
            Some(Tok::Num(n)) => CompValue::Number(n.clone()),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => return Err(self.unexpected(token, EXPECTED_VALUE)),
        };
        // RFC 7644 §3.4.2.2 refuses ordering booleans; ordering null or
        // matching substrings of anything but a string has no meaning either.
        let allowed = match &value {
            CompValue::String(_) => true,
            CompValue::Number(_) => !op.is_substring(),
            CompValue::Bool(_) | CompValue::Null => !op.is_substring() && !op.is_ordering(),
        };
        if !allowed {
            return Err(FilterError::InvalidComparison {
                column: self.column(token),
                op,
                value: value.kind(),
            });
        }
        Ok(Filter::Compare { path, op, value })
    }
}
