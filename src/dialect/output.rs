//! What an action answers, before its dialect's envelope: JSON values, and fields already
//! serialised from typed records (pages of images or clusters, so that a page is not built as
//! a `Value` tree first and taken apart again). Both dialects use it.

use std::sync::Arc;

use serde_json::{Map, Value};

/// JSON text of one field: written for this answer, or shared with a kept answer.
#[derive(Debug)]
pub enum Text {
    /// Written for this answer.
    Owned(String),
    /// Kept between answers (`kept::KeptAnswers`).
    Shared(Arc<str>),
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Owned(s) => s,
            Text::Shared(s) => s,
        }
    }
}

/// Output fields of a successful action (without `RequestId`).
#[derive(Debug, Default)]
pub struct Output {
    /// Fields as values.
    pub fields: Map<String, Value>,
    /// Fields as JSON text, written after `fields`.
    pub raw: Vec<(&'static str, Text)>,
}

impl Output {
    /// No fields.
    pub fn new() -> Output {
        Output::default()
    }

    /// Sets a field.
    pub fn insert(&mut self, key: String, value: Value) {
        self.fields.insert(key, value);
    }

    /// Sets a field to something serialisable, written as JSON text.
    pub fn insert_serialized(&mut self, key: &'static str, value: &impl serde::Serialize) {
        // Serialising plain structs of strings, numbers, lists and values cannot fail.
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
        self.raw.push((key, Text::Owned(text)));
    }

    /// Sets a field to JSON text the caller wrote (valid JSON, as `insert_serialized` would
    /// have written it).
    pub fn insert_text(&mut self, key: &'static str, text: String) {
        self.raw.push((key, Text::Owned(text)));
    }

    /// [`Output::insert_text`] with text kept between answers.
    pub fn insert_shared(&mut self, key: &'static str, text: Arc<str>) {
        self.raw.push((key, Text::Shared(text)));
    }

    /// The fields and `RequestId` as one JSON object's text, the serialised fields spliced in
    /// before its closing brace.
    pub fn into_object_text(self, request_id: &str) -> String {
        self.into_wrapped_text(request_id, "", "")
    }

    /// The same object's text between `before` and `after` (an envelope around it), written
    /// into one string: the serialised pages are copied once.
    pub fn into_wrapped_text(self, request_id: &str, before: &str, after: &str) -> String {
        let Output { mut fields, raw } = self;
        fields.insert("RequestId".into(), Value::String(request_id.to_string()));
        let raw_len: usize = raw.iter().map(|(k, t)| k.len() + t.len() + 4).sum();
        let mut body = String::with_capacity(before.len() + raw_len + 256 + after.len());
        body.push_str(before);
        // `fields` is never empty (it has the RequestId), so the object ends in `}` after a
        // value and a comma can follow.
        body.push_str(&Value::Object(fields).to_string());
        if !raw.is_empty() {
            body.pop();
            for (key, text) in raw {
                body.push(',');
                body.push_str(&Value::String(key.to_string()).to_string());
                body.push(':');
                body.push_str(&text);
            }
            body.push('}');
        }
        body.push_str(after);
        body
    }
}

impl From<Map<String, Value>> for Output {
    fn from(fields: Map<String, Value>) -> Output {
        Output {
            fields,
            raw: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_fields_are_spliced_into_the_object() {
        let mut out = Output::new();
        out.insert("A".into(), Value::from(1));
        out.insert_serialized("List", &vec![1, 2]);
        let text = out.into_object_text("req-1");
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(
            v,
            serde_json::json!({"A": 1, "RequestId": "req-1", "List": [1, 2]})
        );
    }

    #[test]
    fn the_wrapped_text_is_the_object_between_the_envelope_parts() {
        let mut out = Output::new();
        out.insert_serialized("List", &vec![1]);
        let text = out.into_wrapped_text("req-2", "{\"Response\":", "}");
        assert_eq!(
            text,
            "{\"Response\":{\"RequestId\":\"req-2\",\"List\":[1]}}"
        );
    }
}
