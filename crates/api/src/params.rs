//! Request parameters, read the way Appwrite reads them: from the query string for GET, and
//! for other methods from the body — JSON when the content type is `application/json`, form
//! fields (urlencoded or multipart) otherwise. Form arrays use PHP's `name[]=` or
//! `name[0]=` keys. Unknown parameters are ignored, and a missing parameter, JSON `null` and
//! the empty string all mean "absent".
//!
//! The getters only check a parameter's *type*; the domain checks everything else.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, header};
use serde_json::{Map, Value};

use crate::error::ApiError;

use crate::body::LIMIT as BODY_LIMIT;

#[derive(Debug, Default)]
pub struct Params {
    values: Map<String, Value>,
    /// JSON bodies carry typed values; form fields are all text and get parsed.
    typed: bool,
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if request.method() == Method::GET || request.method() == Method::HEAD {
            let query = request.uri().query().unwrap_or_default();
            return Ok(Self::from_form(query.as_bytes()));
        }
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match essence {
            "application/json" => {
                let body = read_body(request).await?;
                Self::from_json(&body)
            }
            "multipart/form-data" => {
                let multipart = Multipart::from_request(request, state)
                    .await
                    .map_err(|rejection| ApiError::argument(rejection.body_text()))?;
                Self::from_multipart(multipart).await
            }
            _ => {
                let body = read_body(request).await?;
                Ok(Self::from_form(&body))
            }
        }
    }
}

async fn read_body(request: Request) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::argument(format!(
                "The request body could not be read, or is larger than {BODY_LIMIT} bytes."
            ))
        })
}

impl Params {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                values: Map::new(),
                typed: true,
            });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(values)) => Ok(Self {
                values,
                typed: true,
            }),
            Ok(_) => Err(ApiError::argument(
                "The request body must be a JSON object of parameters.",
            )),
            Err(error) => Err(ApiError::argument(format!(
                "The request body is not valid JSON: {error}"
            ))),
        }
    }

    pub fn from_form(body: &[u8]) -> Self {
        let mut params = Self::default();
        for (key, value) in form_urlencoded::parse(body) {
            params.insert_field(&key, Value::String(value.into_owned()));
        }
        params.finish_arrays();
        params
    }

    async fn from_multipart(mut multipart: Multipart) -> Result<Self, ApiError> {
        let mut params = Self::default();
        loop {
            let field = multipart.next_field().await.map_err(|error| {
                ApiError::argument(format!("Malformed multipart body: {error}"))
            })?;
            let Some(field) = field else { break };
            let name = field.name().unwrap_or_default().to_owned();
            // Only text fields are parameters here; uploads have their own extractor.
            if field.file_name().is_some() {
                continue;
            }
            let text = field.text().await.map_err(|error| {
                ApiError::argument(format!("Malformed multipart body: {error}"))
            })?;
            params.insert_field(&name, Value::String(text));
        }
        params.finish_arrays();
        Ok(params)
    }

    /// Stores one form field, collecting `name[]` and `name[i]` into an array. Indexed items
    /// are kept as `[index, value]` pairs until [`Self::finish_arrays`] orders them.
    fn insert_field(&mut self, key: &str, value: Value) {
        let Some((name, rest)) = key.split_once('[') else {
            self.values.insert(key.to_owned(), value);
            return;
        };
        let index = rest
            .strip_suffix(']')
            .and_then(|inside| inside.parse::<u64>().ok());
        let slot = self
            .values
            .entry(name.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            let order = index.unwrap_or(u64::MAX);
            items.push(Value::Array(vec![Value::from(order), value]));
        }
    }

    fn finish_arrays(&mut self) {
        for value in self.values.values_mut() {
            if let Value::Array(items) = value {
                // A stable sort keeps `name[]` items (all at u64::MAX) in arrival order.
                items.sort_by_key(|item| item.get(0).and_then(Value::as_u64).unwrap_or(u64::MAX));
                for item in items.iter_mut() {
                    *item = item.get(1).cloned().unwrap_or(Value::Null);
                }
            }
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        match self.values.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.is_empty() => None,
            Some(value) => Some(value),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(invalid(name, "Value must be a valid string")),
        }
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let rule = || invalid(name, "Value must be a valid integer");
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => number.as_i64().map(Some).ok_or_else(rule),
            Some(Value::String(text)) if !self.typed => {
                text.trim().parse::<i64>().map(Some).map_err(|_| rule())
            }
            Some(_) => Err(rule()),
        }
    }

    /// A strict boolean: JSON `true`/`false`, or the words `true`/`false` in a form.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(Value::String(text)) if !self.typed && (text == "true" || text == "false") => {
                Ok(Some(text == "true"))
            }
            Some(_) => Err(invalid(name, "Value must be a valid boolean")),
        }
    }

    /// A loose boolean, as Create Deployment's `activate` takes it: `true`/`false`, the words,
    /// or `1`/`0` as numbers or text.
    pub fn loose_boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(text)) => match text.as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(invalid(name, "Value must be a valid boolean")),
            },
            Some(_) => Err(invalid(name, "Value must be a valid boolean")),
        }
    }

    /// An array of strings; a form's single `name=value` counts as a one-item array.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let rule = || {
            invalid(
                name,
                "Value must a valid array and each item must be a valid string",
            )
        };
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or_else(rule))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(Value::String(text)) if !self.typed => Ok(Some(vec![text.clone()])),
            Some(_) => Err(rule()),
        }
    }
}

fn invalid(name: &str, rule: &str) -> ApiError {
    ApiError::argument(format!("Invalid {name}: {rule}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_style_arrays_in_order() {
        let params = Params::from_form(b"queries[1]=b&queries[0]=a&events[]=x&events[]=y&name=n");
        assert_eq!(
            params.strings("queries").unwrap(),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            params.strings("events").unwrap(),
            Some(vec!["x".into(), "y".into()])
        );
        assert_eq!(params.string("name").unwrap(), Some("n".into()));
    }

    #[test]
    fn null_and_empty_mean_absent() {
        let params = Params::from_json(br#"{"a": null, "b": "", "c": "x"}"#).unwrap();
        assert_eq!(params.string("a").unwrap(), None);
        assert_eq!(params.string("b").unwrap(), None);
        assert_eq!(params.string("c").unwrap(), Some("x".into()));
        assert_eq!(params.string("missing").unwrap(), None);
    }

    #[test]
    fn json_types_are_strict_and_form_text_is_parsed() {
        let json = Params::from_json(br#"{"t": "10", "e": "true", "n": 5, "f": 1.5}"#).unwrap();
        assert!(json.integer("t").is_err());
        assert!(json.boolean("e").is_err());
        assert_eq!(json.integer("n").unwrap(), Some(5));
        assert!(json.integer("f").is_err());
        assert!(json.string("n").is_err());
        let form = Params::from_form(b"t=10&e=true&x=maybe");
        assert_eq!(form.integer("t").unwrap(), Some(10));
        assert_eq!(form.boolean("e").unwrap(), Some(true));
        assert!(form.boolean("x").is_err());
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused() {
        assert!(Params::from_json(b"[1,2]").is_err());
        assert!(Params::from_json(b"{\"a\":").is_err());
        assert!(Params::from_json(b"  ").is_ok());
    }
}
