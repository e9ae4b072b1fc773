//! MLflow's search syntax: filters such as `metrics.rmse < 0.8 and params.model = "xgb"`
//! and orderings such as `metrics.rmse ASC`.
//!
//! The parser only builds clauses; the database layer turns them into SQL with bound values,
//! so no user text ever becomes part of a query string.

use std::fmt;

/// The field a clause compares: a metric, a param, a tag or an attribute of the entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Metric(String),
    Param(String),
    Tag(String),
    Attribute(String),
    Dataset(String),
}

impl fmt::Display for Field {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Metric(key) => write!(formatter, "metrics.{key}"),
            Field::Param(key) => write!(formatter, "params.{key}"),
            Field::Tag(key) => write!(formatter, "tags.{key}"),
            Field::Attribute(key) => write!(formatter, "attributes.{key}"),
            Field::Dataset(key) => write!(formatter, "datasets.{key}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    ILike,
    In,
    NotIn,
}

impl Op {
    pub fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::ILike => "LIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
    List(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub field: Field,
    pub op: Op,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderBy {
    pub field: Field,
    pub ascending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter {filter:?}: {reason}")]
pub struct SearchError {
    pub filter: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(f64),
    Symbol(&'static str),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let ch = chars[index];
        if ch.is_whitespace() {
            index += 1;
        } else if ch == '\'' || ch == '"' {
            let mut value = String::new();
            index += 1;
            loop {
                match chars.get(index) {
                    None => return Err(format!("the string starting {ch}{value} is not closed")),
                    Some(&c) if c == ch => {
                        index += 1;
                        break;
                    }
                    Some('\\') if chars.get(index + 1) == Some(&ch) => {
                        value.push(ch);
                        index += 2;
                    }
                    Some(&c) => {
                        value.push(c);
                        index += 1;
                    }
                }
            }
            tokens.push(Token::Quoted(value));
        } else if ch == '(' {
            tokens.push(Token::Open);
            index += 1;
        } else if ch == ')' {
            tokens.push(Token::Close);
            index += 1;
        } else if ch == ',' {
            tokens.push(Token::Comma);
            index += 1;
        } else if "=!<>".contains(ch) {
            let two: String = chars[index..(index + 2).min(chars.len())].iter().collect();
            let symbol = match two.as_str() {
                "!=" => "!=",
                "<=" => "<=",
                ">=" => ">=",
                "==" => "=",
                _ => match ch {
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    _ => return Err("'!' must be followed by '='".to_string()),
                },
            };
            index += if symbol.len() == 2 || two == "==" { 2 } else { 1 };
            tokens.push(Token::Symbol(symbol));
        } else {
            // A word: an identifier with dots and backquoted parts, or a number.
            let start = index;
            let mut word = String::new();
            while index < chars.len() {
                let c = chars[index];
                if c == '`' {
                    let close = chars[index + 1..]
                        .iter()
                        .position(|&d| d == '`')
                        .ok_or_else(|| "a backquoted name is not closed".to_string())?;
                    word.extend(&chars[index + 1..index + 1 + close]);
                    index += close + 2;
                } else if c.is_whitespace() || "=!<>(),'\"".contains(c) {
                    break;
                } else {
                    word.push(c);
                    index += 1;
                }
            }
            let raw: String = chars[start..index].iter().collect();
            match (raw.contains('`'), word.parse::<f64>()) {
                (false, Ok(number)) => tokens.push(Token::Number(number)),
                _ => tokens.push(Token::Word(word)),
            }
        }
    }
    Ok(tokens)
}

/// Splits `metrics.rmse`, `params.lr`, `tags.team`, `attributes.status` or a bare attribute
/// name into a field.
fn field_of(word: &str) -> Result<Field, String> {
    let (prefix, rest) = match word.split_once('.') {
        Some((prefix, rest)) => (prefix, rest),
        None => return Ok(Field::Attribute(word.to_string())),
    };
    if rest.is_empty() {
        return Err(format!("\"{word}\" has no key after the dot"));
    }
    let key = rest.to_string();
    match prefix.to_ascii_lowercase().as_str() {
        "metric" | "metrics" => Ok(Field::Metric(key)),
        "param" | "params" | "parameter" | "parameters" => Ok(Field::Param(key)),
        "tag" | "tags" => Ok(Field::Tag(key)),
        "attribute" | "attributes" | "attr" | "run" => Ok(Field::Attribute(key)),
        "dataset" | "datasets" => Ok(Field::Dataset(key)),
        _ => Ok(Field::Attribute(word.to_string())),
    }
}

/// Parses a filter. An empty or blank filter gives no clauses.
pub fn parse_filter(filter: &str) -> Result<Vec<Clause>, SearchError> {
    parse_tokens(filter).map_err(|reason| SearchError { filter: filter.to_string(), reason })
}

fn parse_tokens(filter: &str) -> Result<Vec<Clause>, String> {
    let tokens = tokenize(filter)?;
    let mut clauses = Vec::new();
    let mut position = 0;
    while position < tokens.len() {
        if !clauses.is_empty() {
            match &tokens[position] {
                Token::Word(word) if word.eq_ignore_ascii_case("and") => position += 1,
                Token::Word(word) if word.eq_ignore_ascii_case("or") => {
                    return Err("OR is not supported; only AND joins conditions".to_string())
                }
                other => return Err(format!("expected AND between conditions, found {}", describe(other))),
            }
        }
        let field = match tokens.get(position) {
            Some(Token::Word(word)) => field_of(word)?,
            Some(other) => return Err(format!("expected a name such as metrics.rmse, found {}", describe(other))),
            None => return Err("the filter ends after AND".to_string()),
        };
        position += 1;
        let op = match tokens.get(position) {
            Some(Token::Symbol(symbol)) => match *symbol {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                _ => unreachable!("the tokenizer only makes these symbols"),
            },
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("like") => Op::Like,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("ilike") => Op::ILike,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("in") => Op::In,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("not") => {
                match tokens.get(position + 1) {
                    Some(Token::Word(next)) if next.eq_ignore_ascii_case("in") => {
                        position += 1;
                        Op::NotIn
                    }
                    _ => return Err("NOT must be followed by IN".to_string()),
                }
            }
            Some(other) => return Err(format!("expected a comparison after {field}, found {}", describe(other))),
            None => return Err(format!("{field} has no comparison")),
        };
        position += 1;
        let value = if matches!(op, Op::In | Op::NotIn) {
            if tokens.get(position) != Some(&Token::Open) {
                return Err(format!("{} needs a list such as ('a', 'b')", op.sql()));
            }
            position += 1;
            let mut items = Vec::new();
            loop {
                match tokens.get(position) {
                    Some(Token::Quoted(text)) => items.push(text.clone()),
                    Some(Token::Number(number)) => items.push(number.to_string()),
                    _ => return Err("list items must be quoted strings".to_string()),
                }
                position += 1;
                match tokens.get(position) {
                    Some(Token::Comma) => position += 1,
                    Some(Token::Close) => break,
                    _ => return Err("the list is not closed with ')'".to_string()),
                }
            }
            position += 1;
            Value::List(items)
        } else {
            let value = match tokens.get(position) {
                Some(Token::Quoted(text)) => Value::Text(text.clone()),
                Some(Token::Number(number)) => Value::Number(*number),
                Some(other) => return Err(format!("expected a value after {field} {}, found {}", op.sql(), describe(other))),
                None => return Err(format!("{field} {} has no value", op.sql())),
            };
            position += 1;
            value
        };
        check_clause(&field, op, &value)?;
        clauses.push(Clause { field, op, value });
    }
    Ok(clauses)
}

fn check_clause(field: &Field, op: Op, value: &Value) -> Result<(), String> {
    match field {
        Field::Metric(_) => match value {
            Value::Number(_) if !matches!(op, Op::Like | Op::ILike | Op::In | Op::NotIn) => Ok(()),
            _ => Err(format!("{field} compares numbers with =, !=, <, <=, > or >=; write for example {field} < 0.5")),
        },
        Field::Param(_) | Field::Tag(_) | Field::Dataset(_) => match (op, value) {
            (Op::Lt | Op::Le | Op::Gt | Op::Ge, _) => {
                Err(format!("{field} holds text; compare it with =, !=, LIKE, ILIKE or IN"))
            }
            (Op::In | Op::NotIn, Value::List(_)) => Ok(()),
            (_, Value::Text(_)) => Ok(()),
            _ => Err(format!("{field} holds text; quote the value, for example {field} = \"value\"")),
        },
        Field::Attribute(_) => Ok(()),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(word) => format!("\"{word}\""),
        Token::Quoted(text) => format!("the string \"{text}\""),
        Token::Number(number) => format!("the number {number}"),
        Token::Symbol(symbol) => format!("\"{symbol}\""),
        Token::Open => "\"(\"".to_string(),
        Token::Close => "\")\"".to_string(),
        Token::Comma => "\",\"".to_string(),
    }
}

/// Parses one `order_by` entry such as `metrics.rmse ASC` or `start_time DESC`.
pub fn parse_order_by(text: &str) -> Result<OrderBy, SearchError> {
    let error = |reason: String| SearchError { filter: text.to_string(), reason };
    let tokens = tokenize(text).map_err(error)?;
    let (field, ascending) = match tokens.as_slice() {
        [Token::Word(word)] => (word, true),
        [Token::Word(word), Token::Word(direction)] => match direction.to_ascii_uppercase().as_str() {
            "ASC" => (word, true),
            "DESC" => (word, false),
            _ => return Err(error(format!("the direction must be ASC or DESC, not \"{direction}\""))),
        },
        _ => return Err(error("write an ordering as a name and an optional ASC or DESC, for example metrics.rmse ASC".to_string())),
    };
    Ok(OrderBy { field: field_of(field).map_err(error)?, ascending })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let clauses = parse_filter("metrics.rmse < 0.8 and params.model = \"xgb\"").unwrap();
        assert_eq!(
            clauses,
            vec![
                Clause { field: Field::Metric("rmse".into()), op: Op::Lt, value: Value::Number(0.8) },
                Clause { field: Field::Param("model".into()), op: Op::Eq, value: Value::Text("xgb".into()) },
            ]
        );
    }

    #[test]
    fn parses_backquoted_keys_lists_and_attributes() {
        let clauses =
            parse_filter("tags.`mlflow.source.type` = 'LOCAL' AND attributes.status IN ('FINISHED', 'FAILED') and run_name ILIKE '%base%'")
                .unwrap();
        assert_eq!(clauses[0].field, Field::Tag("mlflow.source.type".into()));
        assert_eq!(clauses[1].value, Value::List(vec!["FINISHED".into(), "FAILED".into()]));
        assert_eq!(clauses[2], Clause { field: Field::Attribute("run_name".into()), op: Op::ILike, value: Value::Text("%base%".into()) });
    }

    #[test]
    fn keys_may_contain_dots_and_negative_numbers_parse() {
        let clauses = parse_filter("metrics.val.loss >= -1.5e-3").unwrap();
        assert_eq!(clauses[0], Clause { field: Field::Metric("val.loss".into()), op: Op::Ge, value: Value::Number(-1.5e-3) });
    }

    #[test]
    fn rejects_what_mlflow_rejects_with_a_reason() {
        for (filter, reason) in [
            ("metrics.rmse < 'low'", "compares numbers"),
            ("params.model > 'a'", "holds text"),
            ("metrics.a < 1 or metrics.b < 2", "OR is not supported"),
            ("params.model = 'xgb", "not closed"),
            ("metrics.rmse", "has no comparison"),
        ] {
            let error = parse_filter(filter).unwrap_err();
            assert!(error.reason.contains(reason), "{filter}: {}", error.reason);
        }
        assert!(parse_filter("  ").unwrap().is_empty());
    }

    #[test]
    fn parses_orderings() {
        assert_eq!(parse_order_by("metrics.rmse ASC").unwrap(), OrderBy { field: Field::Metric("rmse".into()), ascending: true });
        assert_eq!(parse_order_by("start_time desc").unwrap(), OrderBy { field: Field::Attribute("start_time".into()), ascending: false });
        assert!(parse_order_by("metrics.rmse upward").is_err());
    }
}
