//! Segments: the rows whose feature values meet conditions such as
//! `carrier = "UA" and distance > 1000`.
//!
//! Stored summaries cover every row of a day, so a segment's summaries are rebuilt from the
//! stored raw rows of the window it looks at. A segment view costs a scan of those rows.

use std::collections::BTreeMap;

use crate::db::records::ScanError;
use crate::db::Db;
use crate::ingest::ColumnValue;
use crate::monitoring::ingestion::{parse_value_json, PerformanceColumns};
use crate::monitoring::performance::PerformanceSummary;
use crate::monitoring::schema::{ColumnKind, ModelSchema};
use crate::monitoring::summary::{ColumnSummary, SummaryBuilder};
use crate::server::errors::ApiError;
use crate::types::Environment;

const DAY_MS: i64 = 86_400_000;

/// Maximum length of a segment text, in bytes.
pub const MAX_SEGMENT_BYTES: usize = 2_000;

/// A comparison operator of a segment condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    In,
    NotIn,
}

impl Operator {
    fn symbol(self) -> &'static str {
        match self {
            Operator::Equal => "=",
            Operator::NotEqual => "!=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::In => "in",
            Operator::NotIn => "not in",
        }
    }

    fn is_ordering(self) -> bool {
        matches!(self, Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual)
    }
}

/// A literal on the right of a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
}

impl Literal {
    /// Tells whether a categorical value equals the literal. A number literal also matches a
    /// category whose label reads as the same number, so `SEX = 1` matches the label "1.0".
    fn matches_category(&self, category: &str) -> bool {
        match self {
            Literal::Text(text) => text == category,
            Literal::Number(number) => category.trim().parse::<f64>().is_ok_and(|value| value == *number),
        }
    }

    fn matches_number(&self, number: f64) -> bool {
        matches!(self, Literal::Number(literal) if *literal == number)
    }
}

/// One condition: a column, an operator and one literal (several for `in`).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub column: String,
    /// Position of the column in the model schema.
    pub index: usize,
    pub kind: ColumnKind,
    pub operator: Operator,
    pub literals: Vec<Literal>,
}

impl Condition {
    /// Tells whether a value meets the condition. A missing value meets none, not even `!=`.
    fn matches(&self, value: Option<&ColumnValue>) -> bool {
        let Some(value) = value else { return false };
        let equal = |literal: &Literal| match value {
            ColumnValue::Number(number) => literal.matches_number(*number),
            ColumnValue::Category(category) => literal.matches_category(category),
        };
        match self.operator {
            Operator::Equal | Operator::In => self.literals.iter().any(equal),
            Operator::NotEqual | Operator::NotIn => !self.literals.iter().any(equal),
            ordering => {
                let (ColumnValue::Number(number), Some(Literal::Number(bound))) = (value, self.literals.first()) else {
                    return false;
                };
                match ordering {
                    Operator::Less => number < bound,
                    Operator::LessOrEqual => number <= bound,
                    Operator::Greater => number > bound,
                    _ => number >= bound,
                }
            }
        }
    }
}

/// A parsed segment: conditions that must all hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub text: String,
    pub conditions: Vec<Condition>,
}

impl Segment {
    /// Parses `text` against the model's columns. Errors name the part that is wrong and
    /// show the form that works.
    pub fn parse(text: &str, schema: &ModelSchema) -> Result<Segment, String> {
        if text.len() > MAX_SEGMENT_BYTES {
            return Err(format!("the segment is {} bytes long; shorten it to at most {MAX_SEGMENT_BYTES}", text.len()));
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens: &tokens, position: 0, schema };
        let mut conditions = vec![parser.condition()?];
        while parser.position < tokens.len() {
            match parser.next() {
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("and") => conditions.push(parser.condition()?),
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("or") => {
                    return Err("segments join conditions with \"and\" only; \"or\" is not supported, so use \"in\" for several values, such as carrier in (\"UA\", \"AA\")".to_string())
                }
                Some(other) => return Err(format!("expected \"and\" after a condition, found {}", other.describe())),
                None => break,
            }
        }
        Ok(Segment { text: text.trim().to_string(), conditions })
    }

    /// Tells whether a stored row (values in schema order) belongs to the segment.
    pub fn matches(&self, values: &[Option<ColumnValue>]) -> bool {
        self.conditions.iter().all(|condition| condition.matches(values.get(condition.index).and_then(Option::as_ref)))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(f64),
    Operator(Operator),
    Open,
    Close,
    Comma,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(word) => format!("\"{word}\""),
            Token::Quoted(text) => format!("the text \"{text}\""),
            Token::Number(number) => format!("the number {number}"),
            Token::Operator(operator) => format!("\"{}\"", operator.symbol()),
            Token::Open => "\"(\"".to_string(),
            Token::Close => "\")\"".to_string(),
            Token::Comma => "\",\"".to_string(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let characters: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            c if c.is_whitespace() => index += 1,
            '(' => {
                tokens.push(Token::Open);
                index += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                index += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                index += 1;
            }
            '"' | '\'' | '`' => {
                let end = characters[index + 1..]
                    .iter()
                    .position(|c| *c == character)
                    .ok_or_else(|| format!("the quote {character} opened at character {} is never closed; close it", index + 1))?;
                let inner: String = characters[index + 1..index + 1 + end].iter().collect();
                // Backquotes name a column whose name has spaces or symbols.
                tokens.push(if character == '`' { Token::Word(inner) } else { Token::Quoted(inner) });
                index += end + 2;
            }
            '=' | '!' | '<' | '>' => {
                let next = characters.get(index + 1).copied();
                let (operator, width) = match (character, next) {
                    ('=', Some('=')) => (Operator::Equal, 2),
                    ('=', _) => (Operator::Equal, 1),
                    ('!', Some('=')) => (Operator::NotEqual, 2),
                    ('<', Some('>')) => (Operator::NotEqual, 2),
                    ('<', Some('=')) => (Operator::LessOrEqual, 2),
                    ('<', _) => (Operator::Less, 1),
                    ('>', Some('=')) => (Operator::GreaterOrEqual, 2),
                    ('>', _) => (Operator::Greater, 1),
                    _ => return Err("\"!\" must be followed by \"=\"; write != for \"not equal\"".to_string()),
                };
                tokens.push(Token::Operator(operator));
                index += width;
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = index;
                index += 1;
                while index < characters.len()
                    && (characters[index].is_ascii_alphanumeric() || matches!(characters[index], '.' | '-' | '+'))
                {
                    index += 1;
                }
                let word: String = characters[start..index].iter().collect();
                let number = word
                    .parse::<f64>()
                    .ok()
                    .filter(|number| number.is_finite())
                    .ok_or_else(|| format!("\"{word}\" is not a number; write numbers such as 1000 or 2.5, and quote text such as \"UA\""))?;
                tokens.push(Token::Number(number));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = index;
                while index < characters.len() && (characters[index].is_alphanumeric() || matches!(characters[index], '_' | '.')) {
                    index += 1;
                }
                tokens.push(Token::Word(characters[start..index].iter().collect()));
            }
            other => {
                return Err(format!(
                    "unexpected character \"{other}\" at character {}; write conditions such as carrier = \"UA\" and distance > 1000",
                    index + 1
                ))
            }
        }
    }
    if tokens.is_empty() {
        return Err("the segment is empty; write conditions such as carrier = \"UA\" and distance > 1000".to_string());
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: &'a [Token],
    position: usize,
    schema: &'a ModelSchema,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.position);
        self.position += 1;
        token
    }

    fn condition(&mut self) -> Result<Condition, String> {
        let column = match self.next() {
            Some(Token::Word(word)) => word.clone(),
            Some(Token::Quoted(text)) => text.clone(),
            Some(other) => return Err(format!("expected a column name, found {}", other.describe())),
            None => return Err("the segment ends after \"and\"; add a condition or remove the \"and\"".to_string()),
        };
        let (index, spec) = self
            .schema
            .columns
            .iter()
            .enumerate()
            .find(|(_, spec)| spec.name == column)
            .ok_or_else(|| {
                let names: Vec<&str> = self.schema.columns.iter().map(|spec| spec.name.as_str()).collect();
                format!("column \"{column}\" not found; the model's columns are {}", names.join(", "))
            })?;
        let operator = match self.next() {
            Some(Token::Operator(operator)) => *operator,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("in") => Operator::In,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("not") => match self.next() {
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("in") => Operator::NotIn,
                _ => return Err(format!("expected \"in\" after \"{column} not\"")),
            },
            Some(other) => {
                return Err(format!("expected an operator (=, !=, <, <=, >, >=, in, not in) after \"{column}\", found {}", other.describe()))
            }
            None => return Err(format!("the condition on \"{column}\" has no operator and value; write it such as {column} = \"value\"")),
        };
        let literals = if matches!(operator, Operator::In | Operator::NotIn) {
            self.literal_list(&column, spec.kind)?
        } else {
            vec![self.literal(&column, spec.kind)?]
        };
        if operator.is_ordering() {
            if spec.kind == ColumnKind::Categorical {
                return Err(format!(
                    "column \"{column}\" is categorical, so \"{}\" does not apply; use =, != or in",
                    operator.symbol()
                ));
            }
            if !matches!(literals[0], Literal::Number(_)) {
                return Err(format!("\"{column} {}\" needs a number, such as {column} {} 1000", operator.symbol(), operator.symbol()));
            }
        }
        if spec.kind == ColumnKind::Numeric {
            if let Some(Literal::Text(text)) = literals.iter().find(|literal| matches!(literal, Literal::Text(_))) {
                return Err(format!("column \"{column}\" is numeric, so compare it with a number, not the text \"{text}\""));
            }
        }
        Ok(Condition { column, index, kind: spec.kind, operator, literals })
    }

    fn literal(&mut self, column: &str, kind: ColumnKind) -> Result<Literal, String> {
        let example = match kind {
            ColumnKind::Numeric => format!("{column} > 1000"),
            ColumnKind::Categorical => format!("{column} = \"value\""),
        };
        match self.next() {
            Some(Token::Number(number)) => Ok(Literal::Number(*number)),
            Some(Token::Quoted(text)) => Ok(Literal::Text(text.clone())),
            Some(Token::Word(word)) if kind == ColumnKind::Numeric => Err(format!(
                "\"{word}\" is not a finite number, and column \"{column}\" is numeric; compare it with a number, such as {example}"
            )),
            Some(Token::Word(word)) => Err(format!("quote the text \"{word}\" in the condition on \"{column}\", as in {column} = \"{word}\"")),
            Some(other) => Err(format!("expected a value in the condition on \"{column}\", found {}", other.describe())),
            None => Err(format!("the condition on \"{column}\" has no value; add one, such as {example}")),
        }
    }

    fn literal_list(&mut self, column: &str, kind: ColumnKind) -> Result<Vec<Literal>, String> {
        if self.next() != Some(&Token::Open) {
            return Err(format!("\"in\" takes a list in parentheses, such as {column} in (\"a\", \"b\")"));
        }
        let mut literals = vec![self.literal(column, kind)?];
        loop {
            match self.next() {
                Some(Token::Comma) => literals.push(self.literal(column, kind)?),
                Some(Token::Close) => return Ok(literals),
                _ => return Err(format!("the list after \"{column} in\" must end with \")\"; separate values with commas")),
            }
        }
    }
}

/// Summaries of a segment's rows, per day: each column's summary and the performance counts.
#[derive(Default)]
pub struct SegmentSummaries {
    pub columns: Vec<(i64, String, ColumnSummary)>,
    pub performance: Vec<(i64, PerformanceSummary)>,
    /// Rows read from the store, in or out of the segment.
    pub rows_scanned: u64,
}

/// Builds the summaries of the segment's rows among a version's stored rows of `environment`
/// whose day starts in `[from_day_ms, to_day_ms]`, as the ingestion builds them for all rows.
pub async fn summarize_segment(
    db: &Db,
    schema: &ModelSchema,
    segment: &Segment,
    model_version_id: i64,
    environment: Environment,
    from_day_ms: i64,
    to_day_ms: i64,
) -> Result<SegmentSummaries, ApiError> {
    let scan = RowScan { db, schema, model_version_id, environment, from_day_ms, to_day_ms };
    let (groups, rows_scanned) = scan
        .summarize_groups(|timestamp_ms, values| {
            segment.matches(values).then(|| timestamp_ms.div_euclid(DAY_MS) * DAY_MS)
        })
        .await?;

    // Ingestion stores performance counts only for schemas with a prediction and an actual.
    let has_performance = PerformanceColumns::of(schema).is_some();
    let mut columns = Vec::new();
    let mut performance = Vec::new();
    for (day, group) in groups {
        columns.extend(group.columns.into_iter().map(|(name, summary)| (day, name, summary)));
        if has_performance {
            performance.push((day, group.performance));
        }
    }
    Ok(SegmentSummaries { columns, performance, rows_scanned })
}

/// The summaries of one group of rows: each column's summary and the performance counts.
#[derive(Default)]
pub struct GroupSummaries {
    pub columns: BTreeMap<String, ColumnSummary>,
    pub performance: PerformanceSummary,
}

/// The stored rows of one version and environment whose day starts in
/// `[from_day_ms, to_day_ms]` (the bounds need not be midnights, as with stored summaries).
pub struct RowScan<'a> {
    pub db: &'a Db,
    pub schema: &'a ModelSchema,
    pub model_version_id: i64,
    pub environment: Environment,
    pub from_day_ms: i64,
    pub to_day_ms: i64,
}

impl RowScan<'_> {
    /// Summarizes the rows per group: `group_of` gets each row's time and values, in schema
    /// order, and returns its group, or `None` to leave the row out. Also returns the number
    /// of rows read.
    pub async fn summarize_groups<K: Ord + Copy>(
        &self,
        mut group_of: impl FnMut(i64, &[Option<ColumnValue>]) -> Option<K>,
    ) -> Result<(BTreeMap<K, GroupSummaries>, u64), ApiError> {
        let mut builders: BTreeMap<(K, usize), SummaryBuilder> = BTreeMap::new();
        let mut performance: BTreeMap<K, PerformanceSummary> = BTreeMap::new();
        let roles = PerformanceColumns::of(self.schema);
        let kinds: Vec<ColumnKind> = self.schema.columns.iter().map(|spec| spec.kind).collect();
        let mut rows_scanned = 0u64;
        let (start_ms, end_ms) = row_time_range(self.from_day_ms, self.to_day_ms);
        let model_version_id = self.model_version_id;

        self.db
            .scan_records(model_version_id, self.environment, start_ms, end_ms, |timestamp_ms, json| {
                rows_scanned += 1;
                let values = decode_values(json, &kinds)?;
                let Some(group) = group_of(timestamp_ms, &values) else { return Ok(()) };
                for (index, value) in values.iter().enumerate() {
                    builders.entry((group, index)).or_default().add_value(value.as_ref());
                }
                if let Some(roles) = &roles {
                    roles.add(performance.entry(group).or_default(), &values);
                }
                Ok(())
            })
            .await
            .map_err(|error| match error {
                ScanError::Database(error) => ApiError::from(error),
                ScanError::Row(message) => {
                    tracing::error!(model_version_id, %message, "a stored row could not be read for a segment");
                    ApiError::internal(format!("a stored row could not be read: {message}"))
                }
            })?;

        let mut groups: BTreeMap<K, GroupSummaries> = BTreeMap::new();
        for ((group, index), builder) in builders {
            groups.entry(group).or_default().columns.insert(self.schema.columns[index].name.clone(), builder.finish_bounded());
        }
        for (group, summary) in performance {
            groups.entry(group).or_default().performance = summary;
        }
        Ok((groups, rows_scanned))
    }
}

/// Converts a range of day starts, `[from_ms, to_ms]`, to the range of row times,
/// `[start, end)`, of the days it covers.
fn row_time_range(from_ms: i64, to_ms: i64) -> (i64, i64) {
    let first_day = from_ms.checked_add(DAY_MS - 1).map_or(i64::MAX, |ms| ms.div_euclid(DAY_MS)).checked_mul(DAY_MS);
    let last_day = to_ms.div_euclid(DAY_MS).checked_mul(DAY_MS);
    (
        first_day.unwrap_or(if from_ms < 0 { i64::MIN } else { i64::MAX }),
        last_day.map_or(if to_ms < 0 { i64::MIN } else { i64::MAX }, |day| day.saturating_add(DAY_MS)),
    )
}

/// Decodes a stored row's values in schema order.
fn decode_values(json: &str, kinds: &[ColumnKind]) -> Result<Vec<Option<ColumnValue>>, String> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|error| format!("a stored row is not valid JSON: {error}"))?;
    Ok(kinds
        .iter()
        .enumerate()
        .map(|(index, kind)| values.get(index).and_then(|value| parse_value_json(value, *kind)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::schema::{ColumnRole, ColumnSpec};

    fn schema() -> ModelSchema {
        ModelSchema {
            id_column: "id".to_string(),
            timestamp_column: "time".to_string(),
            columns: vec![
                ColumnSpec::new("carrier", ColumnKind::Categorical, ColumnRole::Feature),
                ColumnSpec::new("distance", ColumnKind::Numeric, ColumnRole::Feature),
                ColumnSpec::new("SEX", ColumnKind::Categorical, ColumnRole::Feature),
                ColumnSpec::new("dep delay", ColumnKind::Numeric, ColumnRole::Feature),
            ],
        }
    }

    fn row(carrier: Option<&str>, distance: Option<f64>, sex: &str) -> Vec<Option<ColumnValue>> {
        vec![
            carrier.map(|c| ColumnValue::Category(c.to_string())),
            distance.map(ColumnValue::Number),
            Some(ColumnValue::Category(sex.to_string())),
            Some(ColumnValue::Number(5.0)),
        ]
    }

    #[test]
    fn day_ranges_become_row_times() {
        let day = |n: i64| n * DAY_MS;

        assert_eq!(row_time_range(day(3), day(5)), (day(3), day(6)));
        assert_eq!(row_time_range(day(3), day(5) + DAY_MS - 1), (day(3), day(6)));
        assert_eq!(row_time_range(day(3) + 1, day(5)), (day(4), day(6)));
        // The first midnight after i64::MIN, and no end.
        assert_eq!(row_time_range(i64::MIN, i64::MAX), (i64::MIN / DAY_MS * DAY_MS, i64::MAX));
        assert_eq!(row_time_range(-day(2), -day(1)), (-day(2), 0));
    }

    #[test]
    fn conditions_join_with_and() {
        let segment = Segment::parse("carrier = \"UA\" and distance > 1000", &schema()).unwrap();

        assert_eq!(segment.conditions.len(), 2);
        assert!(segment.matches(&row(Some("UA"), Some(1200.0), "1")));
        assert!(!segment.matches(&row(Some("UA"), Some(1000.0), "1")));
        assert!(!segment.matches(&row(Some("AA"), Some(1200.0), "1")));
    }

    #[test]
    fn missing_values_match_no_condition() {
        let not_equal = Segment::parse("carrier != 'UA'", &schema()).unwrap();
        let below = Segment::parse("distance <= 10", &schema()).unwrap();

        assert!(!not_equal.matches(&row(None, Some(1.0), "1")));
        assert!(not_equal.matches(&row(Some("AA"), Some(1.0), "1")));
        assert!(!below.matches(&row(Some("AA"), None, "1")));
    }

    #[test]
    fn in_lists_and_number_labels() {
        let listed = Segment::parse("carrier in (\"UA\", 'AA') and SEX = 2", &schema()).unwrap();
        let excluded = Segment::parse("carrier NOT IN (\"UA\")", &schema()).unwrap();

        assert!(listed.matches(&row(Some("AA"), None, "2.0")));
        assert!(!listed.matches(&row(Some("DL"), None, "2")));
        assert!(!listed.matches(&row(Some("UA"), None, "1")));
        assert!(excluded.matches(&row(Some("DL"), None, "1")));
        assert!(!excluded.matches(&row(Some("UA"), None, "1")));
    }

    #[test]
    fn backquotes_name_columns_with_spaces() {
        let segment = Segment::parse("`dep delay` >= 5 and distance < -1.5e3", &schema()).unwrap();

        assert_eq!(segment.conditions[0].column, "dep delay");
        assert_eq!(segment.conditions[1].literals, vec![Literal::Number(-1500.0)]);
    }

    #[test]
    fn errors_name_the_value_and_fix() {
        let cases = [
            ("origin = \"JFK\"", "column \"origin\" not found; the model's columns are carrier, distance, SEX, dep delay"),
            ("carrier > \"UA\"", "column \"carrier\" is categorical"),
            ("distance = \"far\"", "not the text \"far\""),
            ("carrier = UA", "quote the text \"UA\""),
            ("carrier = \"UA\" or distance > 5", "\"or\" is not supported"),
            ("carrier = \"UA", "is never closed"),
            ("carrier = \"UA\" and", "ends after \"and\""),
            ("distance > 1e400", "\"1e400\" is not a number"),
            ("carrier in \"UA\"", "a list in parentheses"),
            ("   ", "the segment is empty"),
            ("carrier ~ \"UA\"", "unexpected character \"~\""),
            ("distance", "has no operator and value"),
            ("distance >", "has no value; add one, such as distance > 1000"),
            ("distance >= NaN", "\"NaN\" is not a finite number"),
        ];
        for (text, expected) in cases {
            let error = Segment::parse(text, &schema()).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
