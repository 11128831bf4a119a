//! etcd, through the v3 API's JSON gateway (`/v3/kv/range`, `/v3/kv/txn`, `/v3/auth/authenticate`; keys and
//! values in base64), the same API etcdctl speaks over gRPC. A [`Write`] is one `Txn`: compare the guard's
//! value, then every put and delete and the guard's new value, or, when the guard does not hold, only read it.
//!
//! Each request goes to the first member that answers, in the endpoint's order.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::http::{NoAnswer, post};
use crate::{Credentials, Endpoint, Store, StoreError, Write};

/// An etcd cluster.
#[derive(Debug)]
pub struct Etcd {
    endpoint: Endpoint,
    /// The token of an authenticated user, sent as `Authorization`.
    token: Option<String>,
}

impl Etcd {
    /// Connects (authenticates when there are credentials) and checks that a member answers.
    pub fn connect(endpoint: &Endpoint, credentials: &Credentials) -> Result<Etcd, StoreError> {
        let mut etcd = Etcd { endpoint: endpoint.clone(), token: None };
        if let (Some(name), Some(password)) = (&credentials.username, &credentials.password) {
            let answer = etcd.call("/v3/auth/authenticate", &json!({"name": name, "password": password}))?;
            let token = answer["token"].as_str().ok_or_else(|| etcd.refused("it gave no token for the user".into()))?;
            etcd.token = Some(token.to_string());
        } else {
            etcd.call("/v3/kv/range", &json!({"key": B64.encode("switchyard"), "keys_only": true, "limit": 1}))?;
        }
        Ok(etcd)
    }

    fn refused(&self, why: String) -> StoreError {
        StoreError::Refused { endpoint: self.endpoint.to_string(), why }
    }

    /// POSTs `body` to `path` on the first member that answers; an error answer is [`StoreError::Refused`].
    fn call(&self, path: &str, body: &Value) -> Result<Value, StoreError> {
        let body = body.to_string();
        let headers: Vec<(&str, &str)> = self.token.iter().map(|t| ("Authorization", t.as_str())).collect();
        let mut why = Vec::new();
        for address in &self.endpoint.addresses {
            match post(address, path, &headers, &body) {
                Ok((status, text)) => {
                    let answer: Value = serde_json::from_str(&text)
                        .map_err(|_| self.refused(format!("{address} answered {status} with {:?}", clip(&text))))?;
                    if status != 200 {
                        let message = answer["message"].as_str().or(answer["error"].as_str()).unwrap_or(&text);
                        return Err(self.refused(explain(message)));
                    }
                    return Ok(answer);
                }
                Err(NoAnswer(e)) => why.push(format!("{address}: {e}")),
            }
        }
        Err(StoreError::Unreachable { endpoint: self.endpoint.to_string(), why: why.join("; ") })
    }

    fn range(&self, key: &str, range_end: Option<String>) -> Result<BTreeMap<String, String>, StoreError> {
        let mut request = json!({"key": B64.encode(key)});
        if let Some(end) = range_end {
            request["range_end"] = json!(B64.encode(end));
        }
        let answer = self.call("/v3/kv/range", &request)?;
        let mut out = BTreeMap::new();
        for kv in answer["kvs"].as_array().into_iter().flatten() {
            out.insert(self.decode(&kv["key"])?, self.decode(&kv["value"])?);
        }
        Ok(out)
    }

    /// A base64 field of an answer, as text (absent: empty, as the gateway leaves out empty values).
    fn decode(&self, field: &Value) -> Result<String, StoreError> {
        let bytes = B64
            .decode(field.as_str().unwrap_or(""))
            .map_err(|_| self.refused(format!("it answered a key or value that is not base64: {field}")))?;
        String::from_utf8(bytes).map_err(|_| self.refused("it holds a key or value that is not UTF-8".into()))
    }
}

impl Store for Etcd {
    fn endpoint(&self) -> String {
        self.endpoint.to_string()
    }

    fn list(&mut self, prefix: &str) -> Result<BTreeMap<String, String>, StoreError> {
        self.range(prefix, Some(prefix_end(prefix)))
    }

    fn get(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.range(key, None)?.remove(key))
    }

    fn commit(&mut self, write: &Write) -> Result<(), StoreError> {
        let guard = &write.guard;
        let compare = match &guard.expect {
            Some(value) => holds(&guard.key, value),
            None => absent(&guard.key),
        };
        let mut success: Vec<Value> = write
            .put
            .iter()
            .map(|(k, v)| json!({"request_put": {"key": B64.encode(k), "value": B64.encode(v)}}))
            .collect();
        success.extend(write.delete.iter().map(|k| json!({"request_delete_range": {"key": B64.encode(k)}})));
        success.push(json!({"request_put": {"key": B64.encode(&guard.key), "value": B64.encode(&guard.set)}}));
        let mut compares = vec![compare];
        compares.extend(write.absent.iter().map(|k| absent(k)));
        // When a compare fails: read the guard and the keys that must be absent, to say which did not hold.
        let mut failure = vec![json!({"request_range": {"key": B64.encode(&guard.key)}})];
        failure.extend(write.absent.iter().map(|k| json!({"request_range": {"key": B64.encode(k)}})));
        let answer = self.call("/v3/kv/txn", &json!({"compare": compares, "success": success, "failure": failure}))?;
        // proto3's JSON leaves out a false `succeeded`.
        if answer["succeeded"].as_bool() == Some(true) {
            return Ok(());
        }
        let value = |i: usize| -> Result<Option<String>, StoreError> {
            match answer["responses"][i]["response_range"]["kvs"].get(0) {
                Some(kv) => Ok(Some(self.decode(&kv["value"])?)),
                None => Ok(None),
            }
        };
        for (i, key) in write.absent.iter().enumerate() {
            if let Some(found) = value(i + 1)? {
                return Err(StoreError::Conflict { key: key.clone(), expected: None, found: Some(found) });
            }
        }
        Err(StoreError::Conflict { key: guard.key.clone(), expected: guard.expect.clone(), found: value(0)? })
    }

    fn delete_if(&mut self, key: &str, expect: &str) -> Result<bool, StoreError> {
        let txn = json!({"compare": [holds(key, expect)],
                         "success": [{"request_delete_range": {"key": B64.encode(key)}}]});
        Ok(self.call("/v3/kv/txn", &txn)?["succeeded"].as_bool() == Some(true))
    }
}

/// The compare of a key that must not exist.
fn absent(key: &str) -> Value {
    json!({"key": B64.encode(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"})
}

/// The compare of a guard: `key` holds `value`.
fn holds(key: &str, value: &str) -> Value {
    json!({"key": B64.encode(key), "target": "VALUE", "result": "EQUAL", "value": B64.encode(value)})
}

/// The end of the range of keys that start with `prefix` (its last byte plus one).
fn prefix_end(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    while let Some(last) = bytes.pop() {
        if last < 0x7f {
            bytes.push(last + 1);
            return String::from_utf8(bytes).unwrap_or_default();
        }
    }
    // Every key: etcd reads a range end of "\0" as "to the end".
    "\0".into()
}

/// etcd's message, with the fix when it is a limit switchyard can name.
fn explain(message: &str) -> String {
    if message.contains("too many operations in txn request") {
        format!(
            "{message}: the change writes more keys in one transaction than etcd allows (128 by default); start etcd \
             with a larger --max-txn-ops, such as --max-txn-ops 4096"
        )
    } else {
        message.to_string()
    }
}

fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_where_its_keys_end() {
        assert_eq!(prefix_end("traefik/"), "traefik0");
        assert_eq!(prefix_end("a"), "b");
    }

    #[test]
    fn a_limit_is_explained() {
        assert!(explain("etcdserver: too many operations in txn request").contains("--max-txn-ops"));
        assert_eq!(explain("etcdserver: user name not found"), "etcdserver: user name not found");
    }
}
