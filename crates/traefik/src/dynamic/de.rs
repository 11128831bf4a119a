//! serde deserialisation of a checked [`Node`] tree into the typed model, with paerser's conversions: any
//! scalar where a string is wanted (as text: `443` is `"443"`), strings where numbers or booleans are wanted
//! (parsed like Go's `strconv`), and null values skipped (Traefik drops them).
//!
//! The structural checker runs first and has already refused anything this cannot convert, so an error here is
//! a bug (reported as SY3099).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::golang;
use super::source::{Key, Kind, Node};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Deserialises `T` from a node.
pub fn from_node<'de, T: serde::Deserialize<'de>>(node: &'de Node<'de>) -> Result<T, Error> {
    T::deserialize(NodeDe(node))
}

#[derive(Clone, Copy)]
struct NodeDe<'de>(&'de Node<'de>);

impl<'de> NodeDe<'de> {
    fn text(&self) -> Result<std::borrow::Cow<'de, str>, Error> {
        self.0.scalar_text().ok_or_else(|| Error(format!("expected a scalar, got {}", self.0.describe())))
    }

    fn int(&self) -> Result<i64, Error> {
        match &self.0.kind {
            Kind::Int(i) => Ok(*i),
            _ => {
                let text = self.text()?;
                golang::parse_int10(&text).ok_or_else(|| Error(format!("`{text}` is not an integer")))
            }
        }
    }
}

macro_rules! int_methods {
    ($($method:ident => $visit:ident as $t:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let i = self.int()?;
            visitor.$visit(<$t>::try_from(i).map_err(|_| Error(format!("{i} is out of range")))?)
        }
    )*};
}

impl<'de> Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(*b),
            Kind::Int(i) => visitor.visit_i64(*i),
            Kind::Float(f) => visitor.visit_f64(*f),
            Kind::Str(s) => visitor.visit_borrowed_str(s),
            Kind::Seq(items) => visitor.visit_seq(Items(items.iter())),
            Kind::Map(entries) => visitor.visit_map(Entries { entries: entries.iter(), value: None }),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Bool(b) => visitor.visit_bool(*b),
            _ => {
                let text = self.text()?;
                visitor
                    .visit_bool(golang::parse_bool(&text).ok_or_else(|| Error(format!("`{text}` is not a boolean")))?)
            }
        }
    }

    int_methods!(
        deserialize_i8 => visit_i8 as i8,
        deserialize_i16 => visit_i16 as i16,
        deserialize_i32 => visit_i32 as i32,
        deserialize_i64 => visit_i64 as i64,
        deserialize_u8 => visit_u8 as u8,
        deserialize_u16 => visit_u16 as u16,
        deserialize_u32 => visit_u32 as u32,
        deserialize_u64 => visit_u64 as u64
    );

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Float(f) => visitor.visit_f64(*f),
            Kind::Int(i) => visitor.visit_f64(*i as f64),
            _ => {
                let text = self.text()?;
                visitor.visit_f64(text.parse().map_err(|_| Error(format!("`{text}` is not a number")))?)
            }
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text()? {
            std::borrow::Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            std::borrow::Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.kind {
            Kind::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Seq(items) => visitor.visit_seq(Items(items.iter())),
            // As Traefik reads it: a string where a list of scalars is wanted is that list, split at commas, each
            // item trimmed, empty ones kept (the check allows it only for lists of scalars).
            Kind::Str(text) => visitor.visit_seq(serde::de::value::SeqDeserializer::new(
                text.split(',').map(|item| item.trim().to_string()).collect::<Vec<_>>().into_iter(),
            )),
            _ => Err(Error(format!("expected a list, got {}", self.0.describe()))),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Map(entries) => visitor.visit_map(Entries { entries: entries.iter(), value: None }),
            _ => Err(Error(format!("expected a mapping, got {}", self.0.describe()))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.0.kind {
            Kind::Str(s) => visitor.visit_enum(s.as_ref().into_deserializer()),
            _ => Err(Error(format!("expected a string, got {}", self.0.describe()))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct Items<'de>(std::slice::Iter<'de, Node<'de>>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(node) => seed.deserialize(NodeDe(node)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// Mapping entries, without those whose value is null: Traefik's decoder drops them.
struct Entries<'de> {
    entries: std::slice::Iter<'de, (Key<'de>, Node<'de>)>,
    value: Option<&'de Node<'de>>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        for (key, value) in self.entries.by_ref() {
            if value.is_null() {
                continue;
            }
            self.value = Some(value);
            return seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(&key.name)).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.value.take().ok_or_else(|| Error("a value without a key".to_string()))?;
        seed.deserialize(NodeDe(value))
    }
}
