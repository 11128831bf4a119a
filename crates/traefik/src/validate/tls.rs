//! TLS stores and where their certificates are.

use crate::dynamic::{self, Section};
use switchyard_diagnostics::{Diagnostic, Location};

use super::*;

impl<'l> Validator<'l> {
    pub(super) fn tls_stores(&mut self) {
        let Some(tls) = self.loaded.config.tls.as_ref() else { return };
        for name in tls.stores.iter().flat_map(|s| s.keys()) {
            if name != "default" {
                let d = Diagnostic::warning(
                    "SY3206",
                    format!("TLS store `{name}` is not `default`: Traefik v3 uses only the `default` store and ignores this one"),
                )
                .hint("configure `tls.stores.default` instead");
                self.emit(d, Section::TlsStore, name, &[], Aim::Key);
            }
        }
        for (i, certificate) in tls.certificates.iter().flatten().enumerate() {
            for (j, store) in certificate.stores.iter().flatten().enumerate() {
                if store == "default" {
                    continue;
                }
                let mut d = Diagnostic::warning(
                    "SY3206",
                    format!(
                        "this certificate goes to TLS store `{store}`: Traefik v3 uses only the `default` store, so \
                         no router serves it"
                    ),
                )
                .hint("remove `stores` (certificates go to `default`), or write `stores: [default]`");
                if let Some(origin) = self.loaded.origins.get(&(Section::TlsCertificate, i.to_string())) {
                    d = d.at(format!("{}.stores[{j}]", origin.path));
                    d.location = Some(self.certificate_store_location(origin, j));
                }
                self.out.push(d);
            }
        }
    }

    pub(super) fn certificate_store_location(&self, origin: &dynamic::Origin, j: usize) -> Location {
        let found = self.loaded.files.iter().find(|f| f.name == origin.file).and_then(|f| {
            let items = f.root.as_ref()?.get("tls")?.get("certificates")?.items();
            let item = items.iter().find(|n| n.line as usize == origin.line && n.column as usize == origin.column)?;
            Some(item.get("stores")?.items().get(j)?.location(&f.name))
        });
        found.unwrap_or_else(|| origin.location())
    }
}
