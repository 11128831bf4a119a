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
//! | code | severity | meaning |
//! | --- | --- | --- |
//! | SY3001 | error | the file does not parse (YAML or TOML syntax, a merge key on a scalar, a non-scalar key) |
//! | SY3002 | error | unknown key (with did-you-mean); at the top level Traefik ignores it silently, and static-configuration keys there are warnings |
//! | SY3003 | error | wrong type: a string where a list is wanted (`entryPoints: websecure`), a value Go refuses (`priority: high`, `passHostHeader: yes`, `interval: 10 s`), a bare value where a block is wanted |
//! | SY3004 | error/warning | error: an empty block that is not `allowEmpty` (`middlewares: {}`, `http: {}`): Traefik refuses the file; warning: a null value (ignored by Traefik), an empty file |
//! | SY3005 | warning | a v2 option that v3 still reads but deprecates or ignores (`ipWhiteList`, `headers.sslRedirect`, ...), with the replacement |
//! | SY3006 | warning | a name already defined in an earlier file: Traefik keeps the first |
//! | SY3007 | warning | `{{` in a file: Traefik renders every file as a Go template first |
//! | SY3008 | error/warning | a key written twice in one mapping (error); two spellings of one key that differ in case (warning) |
//! | SY3009 | info | a key spelled with another case than Traefik's (accepted: Traefik ignores case) |
//! | SY3010 | error | a second YAML document (Traefik reads only the first) |
//! | SY3011 | error | nesting deeper than 64 levels, or aliases expanding too much |
//! | SY3012 | warning | YAML that Traefik's decoder mangles: a non-string key in a nested mapping (`404: x`), a tag |
//! | SY3099 | error | internal: a checked definition could not be converted (a bug) |
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

pub use load::{FileClass, Loaded, LoadedFile, Origin, classify, load};
pub use model::DynamicConfig;
pub use schema::Section;
pub use source::{Format, Key, Kind, Node};
