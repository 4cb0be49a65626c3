//! The expressions the function sends, parsed and evaluated. Only what it
//! uses (grep `update_expression`, `condition_expression`,
//! `key_condition_expression` and `projection_expression` in
//! `src/downloads/`) is implemented:
//!
//! - conditions: `attribute_not_exists(p)`, `attribute_exists(p)`, `p = v`,
//!   `p < v` (and `<=`, `>`, `>=`, `<>`), joined by `AND`, `OR` and
//!   parentheses;
//! - updates (`update.rs`): `SET p = :v`, `SET p = if_not_exists(p, :v)`,
//!   `REMOVE p, …`, `ADD p :n` (numbers);
//! - key conditions: `packageKey = :v`, alone or `AND begins_with(sortKey, :v)`;
//! - projections: a list of top-level names.
//!
//! Paths are top-level names, plain or `#name`. Anything else (`NOT`,
//! `BETWEEN`, `IN`, `begins_with` outside a key condition, nested paths, `+`, `list_append`,
//! `DELETE`, …) is [`Error::Unsupported`]: the stand-in answers HTTP 400
//! and the bench stops, rather than answer something DynamoDB would not.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// An item: attribute name → AttributeValue in DynamoDB's JSON (`{"S": …}`).
pub type Item = Map<String, Value>;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Outside what the stand-in implements.
    Unsupported(String),
    /// What DynamoDB itself refuses (`ValidationException`).
    Validation(String),
}

pub(super) fn unsupported<T>(what: impl Into<String>) -> Result<T, Error> {
    Err(Error::Unsupported(what.into()))
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Name(String),
    Value(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

pub(super) fn tokens(text: &str) -> Result<Vec<Tok>, Error> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let word = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && (chars[*i].is_alphanumeric() || chars[*i] == '_') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' | ')' | ',' => {
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    _ => Tok::Comma,
                });
                i += 1;
            }
            '#' | ':' => {
                i += 1;
                let w = word(&mut i);
                out.push(match c {
                    '#' => Tok::Name(format!("#{w}")),
                    _ => Tok::Value(format!(":{w}")),
                });
            }
            _ if ["<=", ">=", "<>"].contains(&two.as_str()) => {
                out.push(Tok::Op(match two.as_str() {
                    "<=" => "<=",
                    ">=" => ">=",
                    _ => "<>",
                }));
                i += 2;
            }
            '=' | '<' | '>' => {
                out.push(Tok::Op(match c {
                    '=' => "=",
                    '<' => "<",
                    _ => ">",
                }));
                i += 1;
            }
            _ if c.is_alphabetic() || c == '_' => out.push(Tok::Word(word(&mut i))),
            _ => return unsupported(format!("the character {c:?} in {text:?}")),
        }
    }
    Ok(out)
}

/// The expression's `#names` and `:values`, and which of them were used:
/// DynamoDB refuses a request that leaves one unused.
pub struct Refs<'a> {
    names: Option<&'a Map<String, Value>>,
    values: Option<&'a Map<String, Value>>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> Refs<'a> {
    pub fn new(request: &'a Value) -> Self {
        Refs {
            names: request["ExpressionAttributeNames"].as_object(),
            values: request["ExpressionAttributeValues"].as_object(),
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    pub(super) fn name(&mut self, tok: &Tok) -> Result<String, Error> {
        match tok {
            Tok::Word(w) if is_keyword(w) => unsupported(format!("the keyword {w} here")),
            Tok::Word(w) => Ok(w.clone()),
            Tok::Name(n) => {
                let got = self.names.and_then(|m| m.get(n)).and_then(Value::as_str);
                let got = got.ok_or_else(|| {
                    Error::Validation(format!("An expression attribute name used in the document path is not defined; attribute name: {n}"))
                })?;
                self.used_names.insert(n.clone());
                Ok(got.to_owned())
            }
            other => unsupported(format!("{other:?} where a name belongs")),
        }
    }

    pub(super) fn value(&mut self, tok: &Tok) -> Result<Value, Error> {
        let Tok::Value(v) = tok else {
            return unsupported(format!("{tok:?} where a :value belongs"));
        };
        let got = self.values.and_then(|m| m.get(v)).cloned();
        let got = got.ok_or_else(|| {
            Error::Validation(format!(
                "An expression attribute value used in expression is not defined; attribute value: {v}"
            ))
        })?;
        self.used_values.insert(v.clone());
        Ok(got)
    }

    /// Every name and value given was used (call after parsing them all).
    pub fn all_used(&self) -> Result<(), Error> {
        let unused = |given: Option<&Map<String, Value>>, used: &BTreeSet<String>| {
            given
                .into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| !used.contains(*k))
                .cloned()
                .collect::<Vec<_>>()
        };
        let values = unused(self.values, &self.used_values);
        if !values.is_empty() {
            return Err(Error::Validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        let names = unused(self.names, &self.used_names);
        if !names.is_empty() {
            return Err(Error::Validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        Ok(())
    }
}

pub(super) fn is_keyword(w: &str) -> bool {
    let keywords = [
        "AND", "OR", "NOT", "SET", "REMOVE", "ADD", "DELETE", "BETWEEN", "IN",
    ];
    keywords.contains(&w.to_ascii_uppercase().as_str())
}

fn is_word(tok: Option<&Tok>, word: &str) -> bool {
    matches!(tok, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
}

/// A parsed condition.
#[derive(Debug, Clone)]
pub enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Exists(String, bool),
    Compare(String, &'static str, Value),
}

pub(super) struct Parser<'t, 'r, 'a> {
    pub(super) toks: &'t [Tok],
    pub(super) at: usize,
    pub(super) refs: &'r mut Refs<'a>,
}

impl Parser<'_, '_, '_> {
    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    pub(super) fn next(&mut self) -> Result<Tok, Error> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t.ok_or_else(|| Error::Validation("Invalid expression: unexpected end".into()))
    }

    pub(super) fn expect(&mut self, want: &Tok) -> Result<(), Error> {
        match self.next()? {
            t if &t == want => Ok(()),
            t => Err(Error::Validation(format!(
                "Invalid expression: expected {want:?}, found {t:?}"
            ))),
        }
    }

    fn or(&mut self) -> Result<Cond, Error> {
        let mut left = self.and()?;
        while is_word(self.peek(), "OR") {
            self.at += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, Error> {
        let mut left = self.primary()?;
        while is_word(self.peek(), "AND") {
            self.at += 1;
            left = Cond::And(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Cond, Error> {
        let tok = self.next()?;
        if tok == Tok::Open {
            let inner = self.or()?;
            self.expect(&Tok::Close)?;
            return Ok(inner);
        }
        if let Tok::Word(w) = &tok {
            let exists = match w.as_str() {
                "attribute_exists" => Some(true),
                "attribute_not_exists" => Some(false),
                _ if self.peek() == Some(&Tok::Open) => {
                    return unsupported(format!("the function {w}"))
                }
                _ => None,
            };
            if let Some(exists) = exists {
                self.expect(&Tok::Open)?;
                let name = self.path()?;
                self.expect(&Tok::Close)?;
                return Ok(Cond::Exists(name, exists));
            }
        }
        let name = self.refs.name(&tok)?;
        let Tok::Op(op) = self.next()? else {
            return unsupported("a condition other than a comparison or attribute_(not_)exists");
        };
        let value = self.next()?;
        Ok(Cond::Compare(name, op, self.refs.value(&value)?))
    }

    /// A top-level name (a following `.` or `[` fails to tokenize).
    pub(super) fn path(&mut self) -> Result<String, Error> {
        let tok = self.next()?;
        self.refs.name(&tok)
    }

    fn done(&self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(t) => unsupported(format!("{t:?} after the expression")),
        }
    }
}

/// Parses a condition expression.
pub fn condition(text: &str, refs: &mut Refs<'_>) -> Result<Cond, Error> {
    let toks = tokens(text)?;
    let mut p = Parser {
        toks: &toks,
        at: 0,
        refs,
    };
    let c = p.or()?;
    p.done()?;
    Ok(c)
}

/// A number's value, for comparing and adding (integers exactly).
pub(super) fn number(v: &Value) -> Option<f64> {
    v["N"].as_str().and_then(|n| n.parse::<f64>().ok())
}

impl Cond {
    /// Whether `item` (None: there is none) meets the condition.
    pub fn holds(&self, item: Option<&Item>) -> bool {
        let get = |n: &str| item.and_then(|i| i.get(n));
        match self {
            Cond::And(a, b) => a.holds(item) && b.holds(item),
            Cond::Or(a, b) => a.holds(item) || b.holds(item),
            Cond::Exists(n, want) => get(n).is_some() == *want,
            Cond::Compare(n, op, v) => get(n).is_some_and(|have| compare(have, op, v)),
        }
    }
}

fn compare(have: &Value, op: &str, v: &Value) -> bool {
    let order = match (number(have), number(v), have["S"].as_str(), v["S"].as_str()) {
        (Some(a), Some(b), _, _) => a.partial_cmp(&b),
        (_, _, Some(a), Some(b)) => Some(a.cmp(b)),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match (op, order) {
        ("=", _) => have == v,
        ("<>", _) => have != v,
        ("<", Some(o)) => o == Less,
        ("<=", Some(o)) => o != Greater,
        (">", Some(o)) => o == Greater,
        (">=", Some(o)) => o != Less,
        _ => false,
    }
}

/// A key condition: the partition key's name and the value it equals.
pub fn key_condition(text: &str, refs: &mut Refs<'_>) -> Result<KeyCondition, Error> {
    // `p = :v`, or `p = :v AND begins_with(q, :w)` (the sort key's prefix).
    let (eq, prefix) = match text.split_once(" AND ") {
        Some((eq, rest)) => (eq, Some(rest)),
        None => (text, None),
    };
    let (name, value) = match condition(eq, refs)? {
        Cond::Compare(name, "=", v) => (name, v),
        other => {
            return unsupported(format!(
                "the key condition {other:?} (only `partitionKey = :v`, then `begins_with(sortKey, :v)`)"
            ))
        }
    };
    let prefix = prefix.map(|p| begins_with(p, refs)).transpose()?;
    Ok(KeyCondition {
        name,
        value,
        prefix,
    })
}

/// A Query's key condition: the partition key's name and value, and a
/// prefix of the sort key (`begins_with`), if any.
#[derive(Debug)]
pub struct KeyCondition {
    pub name: String,
    pub value: Value,
    pub prefix: Option<(String, Value)>,
}

/// `begins_with(p, :v)`.
fn begins_with(text: &str, refs: &mut Refs<'_>) -> Result<(String, Value), Error> {
    let toks = tokens(text)?;
    match &toks[..] {
        [Tok::Word(f), Tok::Open, path, Tok::Comma, value, Tok::Close] if f == "begins_with" => {
            Ok((refs.name(path)?, refs.value(value)?))
        }
        _ => unsupported(format!("the key condition {text:?}")),
    }
}

/// A projection: the names to return.
pub fn projection(text: &str, refs: &mut Refs<'_>) -> Result<Vec<String>, Error> {
    let toks = tokens(text)?;
    let mut p = Parser {
        toks: &toks,
        at: 0,
        refs,
    };
    let mut out = vec![p.path()?];
    while p.peek() == Some(&Tok::Comma) {
        p.at += 1;
        out.push(p.path()?);
    }
    p.done()?;
    Ok(out)
}
