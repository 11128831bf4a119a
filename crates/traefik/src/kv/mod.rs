//! Traefik's key-value providers (`providers.etcd`, `providers.redis`): the [`layout`] of a dynamic
//! configuration as the keys they read, and the [`endpoint`] of a store as an environment names it.

pub mod endpoint;
pub mod layout;

pub use endpoint::{Endpoint, Kind};
pub use layout::{DEFAULT_ROOT, KvError, check_root, pairs, root_marker};
