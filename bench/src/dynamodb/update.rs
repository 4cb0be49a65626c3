//! Update expressions: `SET p = :v`, `SET p = if_not_exists(p, :v)`,
//! `REMOVE p, …` and `ADD p :n` (numbers), each clause once; anything
//! else is [`Error::Unsupported`] (see `expr.rs`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::expr::{is_keyword, number, tokens, unsupported, Error, Item, Parser, Refs, Tok};

/// One action of an update expression.
#[derive(Debug, Clone)]
pub enum Action {
    Set(String, Value),
    SetIfNotExists(String, Value),
    Remove(String),
    Add(String, Value),
}

/// Parses an update expression: `SET …`, `REMOVE …`, `ADD …`, each once.
pub fn update(text: &str, refs: &mut Refs<'_>) -> Result<Vec<Action>, Error> {
    let toks = tokens(text)?;
    let mut p = Parser {
        toks: &toks,
        at: 0,
        refs,
    };
    let (mut out, mut clauses) = (Vec::new(), BTreeSet::new());
    while let Some(tok) = p.peek().cloned() {
        p.at += 1;
        let clause = match &tok {
            Tok::Word(w) => w.to_ascii_uppercase(),
            other => return unsupported(format!("{other:?} where SET, REMOVE or ADD belongs")),
        };
        if !clauses.insert(clause.clone()) {
            return Err(Error::Validation(format!(
                "The \"{clause}\" section can only be used once in an update expression"
            )));
        }
        loop {
            out.push(action(&mut p, &clause)?);
            if p.peek() != Some(&Tok::Comma) {
                break;
            }
            p.at += 1;
        }
    }
    let mut paths = BTreeSet::new();
    for a in &out {
        let (Action::Set(n, _)
        | Action::SetIfNotExists(n, _)
        | Action::Remove(n)
        | Action::Add(n, _)) = a;
        if !paths.insert(n.clone()) {
            return Err(Error::Validation(format!(
                "Two document paths overlap with each other; path: [{n}]"
            )));
        }
    }
    Ok(out)
}

fn action(p: &mut Parser<'_, '_, '_>, clause: &str) -> Result<Action, Error> {
    let path = p.path()?;
    match clause {
        "REMOVE" => Ok(Action::Remove(path)),
        "ADD" => {
            let v = p.next()?;
            let v = p.refs.value(&v)?;
            match number(&v) {
                Some(_) => Ok(Action::Add(path, v)),
                None => unsupported("ADD of anything but a number"),
            }
        }
        "SET" => {
            p.expect(&Tok::Op("="))?;
            let tok = p.next()?;
            if matches!(&tok, Tok::Word(w) if w == "if_not_exists") {
                p.expect(&Tok::Open)?;
                let same = p.path()?;
                p.expect(&Tok::Comma)?;
                let v = p.next()?;
                let v = p.refs.value(&v)?;
                p.expect(&Tok::Close)?;
                if same != path {
                    return unsupported("if_not_exists of another attribute");
                }
                return Ok(Action::SetIfNotExists(path, v));
            }
            let v = p.refs.value(&tok)?;
            if matches!(p.peek(), Some(Tok::Word(w)) if !is_keyword(w)) {
                return unsupported("SET with an operator (+, -)");
            }
            Ok(Action::Set(path, v))
        }
        other => unsupported(format!("the {other} clause")),
    }
}

/// Applies the actions to an item.
pub fn apply(actions: &[Action], item: &mut Item) {
    for a in actions {
        match a {
            Action::Set(n, v) => {
                item.insert(n.clone(), v.clone());
            }
            Action::SetIfNotExists(n, v) => {
                item.entry(n.clone()).or_insert_with(|| v.clone());
            }
            Action::Remove(n) => {
                item.remove(n);
            }
            Action::Add(n, v) => {
                let sum = item.get(n).and_then(number).unwrap_or(0.0) + number(v).unwrap_or(0.0);
                item.insert(n.clone(), serde_json::json!({"N": format_number(sum)}));
            }
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}
