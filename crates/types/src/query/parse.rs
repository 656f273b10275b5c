//! Syntax of one `queries[]` element: the 1.0 string form `method(arg, …)` and the JSON form
//! `{"method": …, "attribute": …, "values": […]}`. Only syntax and method names are checked
//! here; whether attributes and values make sense is `validate`'s job.

use super::{Method, Query, QueryError, Value};

/// Parses one element of `queries[]`: the 1.0 string form `equal("name", ["x"])`, or the JSON
/// form `{"method":"equal","attribute":"name","values":["x"]}` (chosen when the trimmed text
/// starts with `{`).
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let parsed = if text.trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_call(text)
    };
    parsed.map_err(|failure| match failure {
        Failure::Method(method) => QueryError::UnknownMethod { method },
        Failure::Syntax(reason) => QueryError::Syntax {
            text: text.to_owned(),
            reason,
        },
    })
}

/// Internal failure, turned into a [`QueryError`] once the whole text is known.
enum Failure {
    Syntax(&'static str),
    Method(String),
}

type Parsed<T> = Result<T, Failure>;

/// One argument of the string form: a single value or a bracketed list.
enum Arg {
    Scalar(Value),
    List(Vec<Value>),
}

impl Arg {
    /// A single value counts as a one-element list (`equal("enabled", true)`).
    fn into_values(self) -> Vec<Value> {
        match self {
            Arg::Scalar(value) => vec![value],
            Arg::List(values) => values,
        }
    }

    fn into_attribute(self) -> Parsed<String> {
        match self {
            Arg::Scalar(Value::String(name)) => Ok(name),
            _ => Err(Failure::Syntax("the attribute must be a string")),
        }
    }
}

fn method_named(name: &str) -> Parsed<Method> {
    // `name.equal(...)` from before 1.0 has a `.` and so is simply not a known name.
    Method::from_name(name).ok_or_else(|| Failure::Method(name.to_owned()))
}

fn parse_call(text: &str) -> Parsed<Query> {
    let open = text.find('(').ok_or(Failure::Syntax("missing `(`"))?;
    let name = text[..open].trim();
    if name.is_empty() {
        return Err(Failure::Syntax("missing method name"));
    }
    let method = method_named(name)?;

    let mut scanner = Scanner {
        text,
        pos: open + 1,
    };
    let args = scanner.arguments()?;
    scanner.skip_whitespace();
    if scanner.peek().is_some() {
        return Err(Failure::Syntax("unexpected text after `)`"));
    }
    shape(method, args)
}

/// Checks the argument count for `method` and spreads the arguments over the query's fields.
fn shape(method: Method, args: Vec<Arg>) -> Parsed<Query> {
    let mut args = args.into_iter();
    let (first, second, rest) = (args.next(), args.next(), args.next());
    if rest.is_some() {
        return Err(Failure::Syntax("too many arguments"));
    }
    let (attribute, values) = match method {
        Method::OrderAsc | Method::OrderDesc => match (first, second) {
            (None, _) => (String::new(), Vec::new()),
            (Some(attribute), None) => (attribute.into_attribute()?, Vec::new()),
            (Some(_), Some(_)) => return Err(Failure::Syntax("too many arguments")),
        },
        Method::Limit | Method::Offset | Method::CursorAfter | Method::CursorBefore => {
            match (first, second) {
                (Some(value), None) => (String::new(), value.into_values()),
                (None, _) => return Err(Failure::Syntax("missing argument")),
                (Some(_), Some(_)) => return Err(Failure::Syntax("too many arguments")),
            }
        }
        // Filters and `search`: an attribute and its values, both required.
        _ => match (first, second) {
            (Some(attribute), Some(values)) => (attribute.into_attribute()?, values.into_values()),
            _ => return Err(Failure::Syntax("expected an attribute and values")),
        },
    };
    Ok(Query {
        method,
        attribute,
        values,
    })
}

/// A cursor over the text of a string-form query. Positions are byte offsets that always sit
/// on a char boundary, because the scanner only ever advances by whole chars.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

/// Chars that end an unquoted value.
const DELIMITERS: [char; 7] = [',', '(', ')', '[', ']', '"', '\''];

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.pos += next.len_utf8();
        Some(next)
    }

    fn eat(&mut self, expected: char) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.pos += expected.len_utf8();
        }
        found
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// The arguments after `(`, up to and including the closing `)`.
    fn arguments(&mut self) -> Parsed<Vec<Arg>> {
        let mut args = Vec::new();
        self.skip_whitespace();
        if self.eat(')') {
            return Ok(args);
        }
        loop {
            self.skip_whitespace();
            let arg = if self.peek() == Some('[') {
                Arg::List(self.list()?)
            } else {
                Arg::Scalar(self.scalar()?)
            };
            args.push(arg);
            self.skip_whitespace();
            if self.eat(')') {
                return Ok(args);
            }
            if !self.eat(',') {
                return Err(Failure::Syntax("expected `,` or `)`"));
            }
        }
    }

    /// A `[...]` list of scalars; the opening bracket is next.
    fn list(&mut self) -> Parsed<Vec<Value>> {
        self.bump();
        let mut values = Vec::new();
        self.skip_whitespace();
        if self.eat(']') {
            return Ok(values);
        }
        loop {
            self.skip_whitespace();
            values.push(self.scalar()?);
            self.skip_whitespace();
            if self.eat(']') {
                return Ok(values);
            }
            if !self.eat(',') {
                return Err(Failure::Syntax("expected `,` or `]`"));
            }
        }
    }

    fn scalar(&mut self) -> Parsed<Value> {
        match self.peek() {
            Some(quote @ ('"' | '\'')) => {
                self.bump();
                self.quoted(quote).map(Value::String)
            }
            Some('[') => Err(Failure::Syntax("nested lists are not allowed")),
            _ => self.bare(),
        }
    }

    /// The rest of a string opened by `quote`, through the matching closing quote.
    fn quoted(&mut self, quote: char) -> Parsed<String> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(Failure::Syntax("unterminated string")),
                Some('\\') => match self.bump() {
                    Some(escaped @ ('"' | '\'' | '\\' | ',' | '[' | ']')) => out.push(escaped),
                    // Anything else keeps its backslash: SDKs do not escape, so a value like
                    // `C:\dir` must come through unchanged.
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => return Err(Failure::Syntax("unterminated string")),
                },
                Some(c) if c == quote => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    /// An unquoted value, up to the next delimiter: a keyword, a number or raw text.
    fn bare(&mut self) -> Parsed<Value> {
        let start = self.pos;
        while self.peek().is_some_and(|c| !DELIMITERS.contains(&c)) {
            self.bump();
        }
        let word = self.text.get(start..self.pos).unwrap_or_default().trim();
        if word.is_empty() {
            return Err(Failure::Syntax("missing value"));
        }
        Ok(bare_value(word))
    }
}

/// Reads an unquoted word: `true`, `false`, `null`, a number, or else the text itself.
fn bare_value(word: &str) -> Value {
    match word {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ if is_number(word) => number_value(word),
        _ => Value::String(word.to_owned()),
    }
}

/// `-?digits(.digits)?([eE][+-]?digits)?`. Checked by hand because Rust's own float parser
/// also takes `inf`, `NaN` and `+1`, which must stay text.
fn is_number(word: &str) -> bool {
    fn digits(bytes: &[u8], at: &mut usize) -> bool {
        let start = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at > start
    }
    let bytes = word.as_bytes();
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    if !digits(bytes, &mut at) {
        return false;
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if !digits(bytes, &mut at) {
            return false;
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        if !digits(bytes, &mut at) {
            return false;
        }
    }
    at == bytes.len()
}

/// A word that passed [`is_number`]: an `Int` when it is written as an integer and fits,
/// otherwise a `Float`; a float too large to be finite stays text.
fn number_value(word: &str) -> Value {
    let integral = !word.contains(['.', 'e', 'E']);
    if integral && let Ok(int) = word.parse::<i64>() {
        return Value::Int(int);
    }
    match word.parse::<f64>() {
        Ok(float) if float.is_finite() => Value::Float(float),
        _ => Value::String(word.to_owned()),
    }
}

fn parse_json(text: &str) -> Parsed<Query> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|_| Failure::Syntax("not valid JSON"))?;
    let serde_json::Value::Object(object) = json else {
        return Err(Failure::Syntax("not a JSON object"));
    };
    let method = match object.get("method") {
        Some(serde_json::Value::String(name)) => method_named(name)?,
        Some(_) => return Err(Failure::Syntax("`method` must be a string")),
        None => return Err(Failure::Syntax("missing `method`")),
    };
    let attribute = match object.get("attribute") {
        None => String::new(),
        Some(serde_json::Value::String(name)) => name.clone(),
        Some(_) => return Err(Failure::Syntax("`attribute` must be a string")),
    };
    let values = match object.get("values") {
        None => Vec::new(),
        Some(serde_json::Value::Array(items)) => {
            items.iter().map(json_value).collect::<Parsed<Vec<_>>>()?
        }
        Some(single) => vec![json_value(single)?],
    };
    Ok(Query {
        method,
        attribute,
        values,
    })
}

/// Largest magnitude (2^63) below which an integral float converts to `i64` exactly.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

fn json_value(json: &serde_json::Value) -> Parsed<Value> {
    Ok(match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::String(text) => Value::String(text.clone()),
        serde_json::Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(int), _) => Value::Int(int),
            // `25.0` is integral, so it is still a valid `limit`.
            // The cast is exact: the float is integral and inside the i64 range.
            (None, Some(float)) if float.fract() == 0.0 && float.abs() < I64_BOUND => {
                Value::Int(float as i64)
            }
            (None, Some(float)) => Value::Float(float),
            (None, None) => return Err(Failure::Syntax("unsupported number")),
        },
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            return Err(Failure::Syntax("values must not be lists or objects"));
        }
    })
}
