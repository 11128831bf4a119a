//! The model's policy reads its input lazily: states and configurations stay raw JSON until a check needs
//! them, so a change parses only the changed environment.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::abi::{ChangeInput, Input, Source};
use crate::spec::Spec;
use crate::state::EnvState;
use crate::traefik::RenderedConfig;

/// The input as [`evaluate`] reads it: states and configurations stay raw JSON until they are needed, and
/// `before` and `plan` are skipped (the model's checks do not use them).
#[derive(Deserialize)]
struct Lazy<'a> {
    abi: u32,
    #[serde(default)]
    change: Option<ChangeInput>,
    spec: Spec,
    #[serde(default)]
    spec_source: Option<Source>,
    #[serde(default, borrow)]
    after: Vec<RawState<'a>>,
    #[serde(default, borrow)]
    config: BTreeMap<String, &'a RawValue>,
}

/// A state of `after` as [`evaluate`] first reads it: which environment it is for, and its top-level entries as
/// raw JSON, so that only the states it checks are parsed, in the same pass over the input that finds their
/// environment (reading each state again just for its `app` and `env` cost as much as skipping it).
///
/// It accepts exactly what reading the state as `struct StateKey { app: String, env: String }` (unknown
/// fields ignored) would: an object with one `app` and one `env`, both strings (keys compared unescaped, a key
/// twice is an error), or an array whose two elements are those strings; the other values are checked to be
/// JSON and nothing more until the state is parsed.
struct RawState<'a> {
    app: Cow<'a, str>,
    env: Cow<'a, str>,
    /// Its top-level entries in order, or None when it is an array (which is never an [`EnvState`]).
    entries: Option<Vec<(Cow<'a, str>, &'a RawValue)>>,
}

impl RawState<'_> {
    /// The state, as parsing its JSON text as an [`EnvState`] would give it (the errors say where in the state's
    /// values rather than where in its text).
    fn parse(self) -> Result<EnvState, serde_json::Error> {
        match self.entries {
            Some(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter());
                let state = EnvState::deserialize(MapAccessDeserializer::new(&mut map))?;
                map.end()?;
                Ok(state)
            }
            // As an array, an EnvState begins with its `format`, a number: these strings are not one.
            None => {
                EnvState::deserialize(SeqDeserializer::<_, serde_json::Error>::new([self.app, self.env].into_iter()))
            }
        }
    }
}

/// A string, borrowed from the input when it has no escapes (as `#[serde(borrow)] Cow<str>` reads it).
struct CowStr;

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct RawStateVisitor;

impl<'de> Visitor<'de> for RawStateVisitor {
    type Value = RawState<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct StateKey")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut app, mut env) = (None, None);
        // As many as the fields of an EnvState: one allocation for a state as hosts write it.
        let mut entries = Vec::with_capacity(9);
        while let Some(key) = map.next_key_seed(CowStr)? {
            let value: &'de RawValue = map.next_value()?;
            let (field, seen) = match &*key {
                "app" => ("app", &mut app),
                "env" => ("env", &mut env),
                _ => {
                    entries.push((key, value));
                    continue;
                }
            };
            if seen.is_some() {
                return Err(de::Error::duplicate_field(field));
            }
            *seen = Some(CowStr.deserialize(value).map_err(de::Error::custom)?);
            entries.push((key, value));
        }
        let app = app.ok_or_else(|| de::Error::missing_field("app"))?;
        let env = env.ok_or_else(|| de::Error::missing_field("env"))?;
        Ok(RawState { app, env, entries: Some(entries) })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let app = seq.next_element_seed(CowStr)?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let env = seq.next_element_seed(CowStr)?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok(RawState { app, env, entries: None })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawState<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("StateKey", &["app", "env"], RawStateVisitor)
    }
}

/// The [`Input`] to check: every state and configuration for a plain check, the changed environment's for a
/// change.
pub(super) fn parse(input: &[u8]) -> Result<Input, serde_json::Error> {
    let lazy: Lazy<'_> = serde_json::from_slice(input)?;
    let wanted = |app: &str, env: &str| match &lazy.change {
        Some(c) => c.app == app && c.env == env,
        None => true,
    };
    let mut after = Vec::new();
    for state in lazy.after {
        if wanted(&state.app, &state.env) {
            after.push(state.parse()?);
        }
    }
    let mut config = BTreeMap::new();
    for (key, raw) in &lazy.config {
        let (app, env) = key.split_once('/').unwrap_or((key.as_str(), ""));
        if wanted(app, env) {
            config.insert(key.clone(), serde_json::from_str::<RenderedConfig>(raw.get())?);
        }
    }
    Ok(Input {
        abi: lazy.abi,
        change: lazy.change,
        spec: lazy.spec,
        spec_source: lazy.spec_source,
        before: Vec::new(),
        after,
        config,
    })
}
