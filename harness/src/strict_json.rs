//! JSON that people write by hand (search spaces, architecture files), read strictly: a key
//! given twice in one object is an error (serde_json would keep the last one silently, so the
//! first value a user wrote would be ignored without a word), and a leading UTF-8 byte-order
//! mark, which some Windows editors add, is skipped.
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;

/// Parses `text` into a value; errors carry serde_json's "at line L column C".
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str::<NoDuplicateKeys>(text)?;
    serde_json::from_str(text)
}

/// Deserialises any JSON and keeps nothing; fails on a repeated key.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: Error>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_unit<E: Error>(self) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom(format!(
                    "the key \"{key}\" is given twice in one object (only one value can count)"
                )));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_is_an_error_with_its_position() {
        let e = parse("{\n  \"lr\": 1,\n  \"lr\": 2\n}")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"lr\" is given twice") && e.contains("line 3"),
            "{e}"
        );
        // Nested objects too; the same key in sibling objects is fine.
        let e = parse(r#"{"a": {"x": 1, "y": [ {"z": 1, "z": 2} ]}}"#).unwrap_err();
        assert!(e.to_string().contains("\"z\" is given twice"), "{e}");
        let v = parse(r#"{"a": {"x": 1}, "b": {"x": 2}}"#).unwrap();
        assert_eq!(v["b"]["x"], 2);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_values_are_kept() {
        let v = parse("\u{feff}{\"q\": [0.5, -3, null, true, \"s\"]}").unwrap();
        assert_eq!(v["q"][0], 0.5);
        assert_eq!(v["q"][1], -3);
        assert!(v["q"][2].is_null() && v["q"][3] == true && v["q"][4] == "s");
        assert!(parse("{\"a\": 1} x").is_err());
    }
}
