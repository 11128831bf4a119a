//! Traefik v3 dynamic configuration as the file provider reads it: any file, not only what switchyard writes
//! (that narrow subset is the model's `traefik` module).
//!
//! [`load()`] takes the files of a provider directory and gives the merged typed configuration
//! ([`model::DynamicConfig`]), where each named definition comes from ([`Origin`]), and every problem found,
//! with file, line, column and key path:
//!
//! 1. [`source`]: each file becomes a positioned tree ([`source::Node`]). YAML is read like Traefik's yaml.v3
//!    (YAML 1.2 core schema, first document only, anchors and merge keys resolved, duplicate keys refused), TOML
//!    with toml_edit. Nesting is bounded ([`source::MAX_DEPTH`]) and so is alias expansion.
//! 2. `check`: the tree is walked against the shape of the typed model ([`schema`]), which is generated from
//!    the same declarations as the serde structs ([`model`]), and every structural problem is reported at once.
//! 3. Each valid definition is deserialised ([`de`]) and merged: files in sorted order, the first definition of a
//!    name wins (Traefik's rule; later ones are SY3006 warnings).
//!
//! The codes are SY3001-SY3012 and SY3099, each with its severity and meaning in [`switchyard_diagnostics::registry`].
//!
//! Any error means Traefik refuses the file, and in `directory` mode keeps its previous configuration for the
//! whole directory.

mod check;
pub mod de;
mod golang;
pub mod load;
pub mod model;
pub mod schema;
pub mod source;
mod template;

pub use load::{FileClass, Loaded, LoadedFile, Origin, classify, load};
pub use model::DynamicConfig;
pub use schema::Section;
pub use source::{Format, Key, Kind, Node};
pub use template::FUNCTIONS as TEMPLATE_FUNCTIONS;
