//! Redis (one server, its primary). A [`Write`] is `WATCH` on the guard, a read of it, then `MULTI`, every `SET`
//! and `DEL` and the guard's new value, `EXEC`: Redis runs the whole block at once, or nothing of it when the
//! guard was written after the `WATCH`.

use std::collections::BTreeMap;
use std::time::Duration;

use redis::{ConnectionAddr, IntoConnectionInfo as _, RedisConnectionInfo};

use crate::{Credentials, Endpoint, Store, StoreError, Write};

/// How long to wait for the connection, and then for each answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Keys asked for at a time while listing (`SCAN ... COUNT`, `MGET`).
const BATCH: usize = 1000;

/// A Redis server.
pub struct Redis {
    endpoint: Endpoint,
    connection: redis::Connection,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl Redis {
    /// Connects (authenticating when there are credentials) and selects the endpoint's database.
    pub fn connect(endpoint: &Endpoint, credentials: &Credentials) -> Result<Redis, StoreError> {
        let unreachable = |why: String| StoreError::Unreachable { endpoint: endpoint.to_string(), why };
        let address = endpoint.addresses.first().ok_or_else(|| unreachable("no address".into()))?;
        let (host, port) = address.rsplit_once(':').ok_or_else(|| unreachable(format!("{address} has no port")))?;
        let port = port.parse::<u16>().map_err(|_| unreachable(format!("{address} has no valid port")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let mut settings = RedisConnectionInfo::default().set_db(i64::from(endpoint.database));
        if let Some(user) = &credentials.username {
            settings = settings.set_username(user);
        }
        if let Some(password) = &credentials.password {
            settings = settings.set_password(password);
        }
        let info = ConnectionAddr::Tcp(host, port)
            .into_connection_info()
            .map_err(|e| unreachable(e.to_string()))?
            .set_redis_settings(settings);
        let client = redis::Client::open(info).map_err(|e| unreachable(e.to_string()))?;
        let connection = client.get_connection_with_timeout(TIMEOUT).map_err(|e| classify(endpoint, &e))?;
        connection.set_read_timeout(Some(TIMEOUT)).map_err(|e| unreachable(e.to_string()))?;
        connection.set_write_timeout(Some(TIMEOUT)).map_err(|e| unreachable(e.to_string()))?;
        let mut redis = Redis { endpoint: endpoint.clone(), connection };
        redis.keep_notifications()?;
        Ok(redis)
    }

    /// Makes sure Redis sends the keyspace notifications Traefik watches (`notify-keyspace-events` with `K`, and
    /// `A` or both `g` and `$`). Traefik's Redis provider turns them on when it starts, but Redis forgets them
    /// when it restarts (they are not persisted) and Traefik, reconnected, does not turn them on again: it then
    /// never sees another change (seen with Traefik 3.7.15 and Redis 7). So every connection checks them.
    fn keep_notifications(&mut self) -> Result<(), StoreError> {
        let (_, flags): (String, String) = redis::cmd("CONFIG")
            .arg("GET")
            .arg("notify-keyspace-events")
            .query(&mut self.connection)
            .map_err(|e| self.error(&e))?;
        if notifies(&flags) {
            return Ok(());
        }
        let wanted = format!("{flags}AKE");
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("notify-keyspace-events")
            .arg(&wanted)
            .query::<()>(&mut self.connection)
            .map_err(|e| StoreError::Refused {
                endpoint: self.endpoint.to_string(),
                why: format!(
                    "it does not send the keyspace notifications Traefik watches (notify-keyspace-events is {flags:?}) \
                     and switchyard could not turn them on ({e}); set `notify-keyspace-events AKE` in redis.conf"
                ),
            })
    }

    fn error(&self, e: &redis::RedisError) -> StoreError {
        classify(&self.endpoint, e)
    }
}

/// A connection's failure is [`StoreError::Unreachable`]; an error answer is [`StoreError::Refused`].
fn classify(endpoint: &Endpoint, e: &redis::RedisError) -> StoreError {
    let why = e.to_string();
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        StoreError::Unreachable { endpoint: endpoint.to_string(), why }
    } else {
        StoreError::Refused { endpoint: endpoint.to_string(), why }
    }
}

/// Whether `flags` (of `notify-keyspace-events`) send what Traefik watches: keyspace events of strings and
/// generic commands.
fn notifies(flags: &str) -> bool {
    flags.contains('K') && (flags.contains('A') || (flags.contains('g') && flags.contains('$')))
}

/// `text` with the characters `SCAN`'s pattern treats as special escaped.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store for Redis {
    fn endpoint(&self) -> String {
        self.endpoint.to_string()
    }

    fn list(&mut self, prefix: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let pattern = format!("{}*", glob_escape(prefix));
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(BATCH)
                .query(&mut self.connection)
                .map_err(|e| self.error(&e))?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        let mut out = BTreeMap::new();
        for chunk in keys.chunks(BATCH) {
            let values: Vec<Option<String>> =
                redis::cmd("MGET").arg(chunk).query(&mut self.connection).map_err(|e| self.error(&e))?;
            // A key deleted between the scan and the read is simply not there.
            out.extend(chunk.iter().cloned().zip(values).filter_map(|(k, v)| v.map(|v| (k, v))));
        }
        Ok(out)
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        redis::cmd("GET").arg(key).query(&mut self.connection).map_err(|e| self.error(&e))
    }

    fn commit(&mut self, write: &Write) -> Result<(), StoreError> {
        let guard = &write.guard;
        let mut watch = redis::cmd("WATCH");
        watch.arg(&guard.key);
        for key in &write.absent {
            watch.arg(key);
        }
        watch.query::<()>(&mut self.connection).map_err(|e| self.error(&e))?;
        let found = self.get(&guard.key)?;
        let mut conflict = (found != guard.expect).then(|| StoreError::Conflict {
            key: guard.key.clone(),
            expected: guard.expect.clone(),
            found,
        });
        for key in &write.absent {
            if conflict.is_none()
                && let Some(found) = self.get(key)?
            {
                conflict = Some(StoreError::Conflict { key: key.clone(), expected: None, found: Some(found) });
            }
        }
        if let Some(conflict) = conflict {
            redis::cmd("UNWATCH").query::<()>(&mut self.connection).map_err(|e| self.error(&e))?;
            return Err(conflict);
        }
        let mut block = redis::pipe();
        block.atomic();
        for (key, value) in &write.put {
            block.cmd("SET").arg(key).arg(value).ignore();
        }
        if !write.delete.is_empty() {
            block.cmd("DEL").arg(write.delete.iter().collect::<Vec<_>>()).ignore();
        }
        block.cmd("SET").arg(&guard.key).arg(&guard.set).ignore();
        // EXEC answers nil when a watched key was written meanwhile: nothing of the block ran.
        let answer: redis::Value = block.query(&mut self.connection).map_err(|e| self.error(&e))?;
        if matches!(answer, redis::Value::Nil) {
            let found = self.get(&guard.key)?;
            return Err(StoreError::Conflict { key: guard.key.clone(), expected: guard.expect.clone(), found });
        }
        Ok(())
    }

    fn delete_if(&mut self, key: &str, expect: &str) -> Result<bool, StoreError> {
        redis::cmd("WATCH").arg(key).query::<()>(&mut self.connection).map_err(|e| self.error(&e))?;
        if self.get(key)?.as_deref() != Some(expect) {
            redis::cmd("UNWATCH").query::<()>(&mut self.connection).map_err(|e| self.error(&e))?;
            return Ok(false);
        }
        let mut block = redis::pipe();
        block.atomic().cmd("DEL").arg(key).ignore();
        let answer: redis::Value = block.query(&mut self.connection).map_err(|e| self.error(&e))?;
        Ok(!matches!(answer, redis::Value::Nil))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notifications_traefik_needs_are_recognised() {
        assert!(notifies("AKE") && notifies("g$K") && notifies("KA"));
        assert!(!notifies("") && !notifies("AE") && !notifies("Kg"));
    }

    #[test]
    fn patterns_match_only_the_prefix() {
        assert_eq!(glob_escape("traefik/http/"), "traefik/http/");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
