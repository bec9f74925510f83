//! Query strings: [`JsonQuery`] reads the query string into a [`FromQuery`] type, parameter by
//! parameter, so that a refusal is the JSON error shape naming the parameter at fault
//! (`GET /v1/alerts?after=-1` → 400 `{"error": "…", "field": "after"}`).

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The largest sequence number a query takes (`after`): the store's sequence numbers are
/// 64-bit signed integers, and the OpenAPI document says `format: int64`.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// A type read from a query string's parameters.
pub trait FromQuery: Sized {
    /// Reads the parameters this type takes (others are ignored).
    fn from_query(q: &QueryParams) -> Result<Self, ApiError>;
}

/// The query string, deserialised with [`FromQuery`]; 400 naming the parameter at fault.
#[derive(Debug)]
pub struct JsonQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for JsonQuery<T>
where
    T: FromQuery,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = QueryParams::parse(parts.uri.query().unwrap_or(""));
        T::from_query(&q).map(JsonQuery)
    }
}

/// The decoded `name=value` pairs of a query string (`application/x-www-form-urlencoded`).
#[derive(Debug, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Splits and decodes a raw query string as `application/x-www-form-urlencoded` (`+` is a
    /// space; an invalid `%` escape is kept as it is; invalid UTF-8 becomes U+FFFD).
    pub fn parse(raw: &str) -> Self {
        QueryParams(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The raw value of `name`, if given; 400 if given more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut found = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(ApiError::bad_request(
                format!("{name} given more than once"),
                name,
            ));
        }
        Ok(first)
    }

    /// An unsigned integer in `[min, max]` (decimal digits only), if given; 400 otherwise.
    pub fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        let bad = || {
            ApiError::bad_request(
                format!("{name} must be an integer in [{min}, {max}], got {v:?}"),
                name,
            )
        };
        if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(bad()),
        }
    }

    /// A string, if given.
    pub fn string(&self, name: &str) -> Result<Option<String>, ApiError> {
        Ok(self.get(name)?.map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_names_the_parameter() {
        let q = QueryParams::parse("after=%31%32&chain=a+b&x=%zz&limit=");
        assert_eq!(q.integer("after", 0, MAX_SEQ).unwrap(), Some(12));
        assert_eq!(q.string("chain").unwrap().as_deref(), Some("a b"));
        assert_eq!(q.string("x").unwrap().as_deref(), Some("%zz"));
        assert_eq!(
            q.integer("limit", 1, 10).unwrap_err().field.as_deref(),
            Some("limit")
        );
        assert_eq!(q.integer("missing", 0, 1).unwrap(), None);
        let q = QueryParams::parse("after=-1");
        assert_eq!(
            q.integer("after", 0, MAX_SEQ).unwrap_err().field.as_deref(),
            Some("after")
        );
        let q = QueryParams::parse(&format!("after={}", MAX_SEQ + 1));
        assert!(q.integer("after", 0, MAX_SEQ).is_err());
        let q = QueryParams::parse("after=1&after=2");
        assert!(q.get("after").is_err());
        assert_eq!(
            QueryParams::parse("a=%").string("a").unwrap().as_deref(),
            Some("%")
        );
        assert_eq!(
            QueryParams::parse("a=%4").string("a").unwrap().as_deref(),
            Some("%4")
        );
    }
}
