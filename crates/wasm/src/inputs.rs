//! The spec and the states as the page sends them, parsed once per text (features `workflow` and `policy`).

use std::cell::RefCell;
use std::rc::Rc;

use switchyard_diagnostics::{Diagnostic, Location};
use switchyard_model::{EnvKey, EnvState, Spec, ValidSpec, World};

/// The name diagnostics about the state editor's text carry, as the spec's carry `switchyard.yaml`.
const STATE_FILE: &str = "state.json";

pub(crate) type Parsed<T> = Rc<Result<T, Vec<Diagnostic>>>;
/// The last text parsed and what it gave.
type Cache<T> = RefCell<Option<(String, Parsed<T>)>>;

thread_local! {
    /// The last spec and the last states parsed, by their text. A keystroke changes one of the two, so the
    /// other is not parsed again (the states of 150 environments take longer to parse than to render). A
    /// cache of pure functions: every answer is the same as without it.
    static SPEC: Cache<ValidSpec> = const { RefCell::new(None) };
    static WORLD: Cache<World> = const { RefCell::new(None) };
}

fn cached<T>(
    cache: &'static std::thread::LocalKey<Cache<T>>,
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, Vec<Diagnostic>>,
) -> Parsed<T> {
    cache.with(|cell| {
        if let Some((key, value)) = &*cell.borrow()
            && key == text
        {
            return Rc::clone(value);
        }
        let value = Rc::new(parse(text));
        *cell.borrow_mut() = Some((text.to_string(), Rc::clone(&value)));
        value
    })
}

pub(crate) fn parse(spec_yaml: &str) -> Parsed<ValidSpec> {
    cached(&SPEC, spec_yaml, |text| Spec::parse(text, "switchyard.yaml"))
}

pub(crate) fn parse_world(states_json: &str) -> Parsed<World> {
    cached(&WORLD, states_json, |text| {
        if text.trim().is_empty() {
            return Ok(World::new());
        }
        let states: Vec<EnvState> = serde_json::from_str(text).map_err(|e| {
            let mut d = Diagnostic::error("SY0901", format!("the state is not valid: {e}")).at("state");
            d.location = Some(Location { file: STATE_FILE.into(), line: e.line().max(1), column: e.column().max(1) });
            vec![d]
        })?;
        Ok(states.into_iter().map(|s| (EnvKey::new(&s.app, &s.env), s)).collect())
    })
}

/// The parsed value, or the diagnostics of the failed parse.
pub(crate) fn ok<T>(parsed: &Result<T, Vec<Diagnostic>>) -> Result<&T, Vec<Diagnostic>> {
    parsed.as_ref().map_err(Clone::clone)
}
