//! The names switchyard gives what it makes for one app in one environment: Traefik's routers and services,
//! its files, the state files, the stacks. Rendering, the executors and the policy all use them. Components never
//! contain `_` (apps and environments are DNS labels, version slugs are labels), except the compose service name,
//! which always comes last: so the names are unambiguous and free of `@` and dots.

/// The parts one after the other, in a string allocated once.
fn concat(parts: &[&str]) -> String {
    let mut name = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        name.push_str(part);
    }
    name
}

/// What every router and service name of an environment starts with: `whoami_dev_`. No other
/// environment's names start so: apps and environments never contain `_`.
pub fn prefix(app: &str, env: &str) -> String {
    concat(&[app, "_", env, "_"])
}
pub fn production(app: &str, env: &str, service: &str) -> String {
    concat(&[app, "_", env, "_prod_", service])
}
pub fn slot(app: &str, env: &str, slot: crate::state::Slot, service: &str) -> String {
    concat(&[app, "_", env, "_slot_", slot.as_str(), "_", service])
}
pub fn preview(app: &str, env: &str, slug: &str, service: &str) -> String {
    concat(&[app, "_", env, "_preview_", slug, "_", service])
}
pub fn version(app: &str, env: &str, slug: &str, service: &str) -> String {
    concat(&[app, "_", env, "_ver_", slug, "_", service])
}
/// The middleware, used by no router, whose response header says which write of an environment a Traefik
/// serves (an environment whose routing lives in a store: every instance of the fleet is asked for it).
pub fn revision_marker(app: &str, env: &str) -> String {
    concat(&[app, "_", env, "_revision"])
}
/// The compose project (and network) of a version: `whoami-dev-v1-2-0`.
pub fn stack(app: &str, env: &str, slug: &str) -> String {
    format!("{app}-{env}-{slug}")
}
/// The container of a compose service in a stack, as compose names it and Docker's DNS resolves it.
pub fn container(stack: &str, service: &str) -> String {
    format!("{stack}-{service}-1")
}
/// The file in Traefik's dynamic directory: top level, `.yml`, unambiguous.
pub fn config_file(app: &str, env: &str) -> String {
    format!("switchyard_{app}_{env}.yml")
}
/// The stem of an environment's own files outside Traefik's directory (its state, lock and audit log):
/// `whoami_dev`. Unambiguous: apps and environments never contain `_`.
pub fn env_stem(app: &str, env: &str) -> String {
    concat(&[app, "_", env])
}
