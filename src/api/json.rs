//! JSON bodies read strictly: a key given twice in one object is refused (Pipedrive's side:
//! which one was meant cannot be known), and nesting is bounded while parsing, so a deep body
//! is refused at its first level too many instead of being built and then walked.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `bytes` as one JSON value at most `max_depth` arrays and objects deep. The error
/// says what is wrong and where (serde_json's line and column).
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict {
        depth: 0,
        max_depth,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
    max_depth: usize,
}

impl Strict {
    fn deeper<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format!(
                "nested deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(Self {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} is given twice")));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_parse_as_serde_json_would() {
        let text = r#"{"name":"A","n":[1,-2,3.5,null,true],"o":{"k":"v"}}"#;
        assert_eq!(
            parse(text.as_bytes(), 32).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        assert_eq!(parse(b" 7 ", 32).unwrap(), json!(7));
    }

    #[test]
    fn a_key_given_twice_is_refused_naming_it() {
        let e = parse(br#"{"name":"A","x":{"k":1,"k":2}}"#, 32).unwrap_err();
        assert!(
            e.to_string().contains("the key \"k\" is given twice"),
            "{e}"
        );
        let e = parse(br#"{"name":"A","name":"B"}"#, 32).unwrap_err();
        assert!(e.to_string().contains("\"name\""), "{e}");
    }

    #[test]
    fn nesting_is_refused_at_the_first_level_too_many() {
        assert!(parse(b"[[[1]]]", 3).is_ok());
        let e = parse(b"[[[[1]]]]", 3).unwrap_err();
        assert!(e.to_string().contains("nested deeper than 3 levels"), "{e}");
        let deep = "[".repeat(500_000);
        let e = parse(deep.as_bytes(), 32).unwrap_err();
        assert!(e.to_string().contains("line 1 column 33"), "{e}");
    }

    #[test]
    fn trailing_bytes_are_refused() {
        assert!(parse(b"{} {}", 32).is_err());
    }
}
