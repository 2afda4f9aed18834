//! The registry of live handles.
//!
//! A handle given to C is a token (a number from a counter, cast to a pointer type), never
//! the address of the object: the object lives in this registry, behind its own lock. Every
//! call looks its token up, so a freed token, a token of another type or a random pointer is
//! refused with `PQE_ERR_INVALID_HANDLE` instead of being dereferenced. Tokens are never
//! reused (the counter is 64 bits wide on 64-bit targets and skips 0).

use crate::error::Failure;
use crate::pqe_status;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A live object of one of the handle types.
pub(crate) enum Object {
    Analyzer(Arc<Mutex<crate::analyzer::AnalyzerState>>),
    Comtrade(Arc<Mutex<crate::comtrade::ComtradeState>>),
    Analysis(Arc<Mutex<crate::analysis::AnalysisState>>),
}

impl Object {
    fn type_name(&self) -> &'static str {
        match self {
            Object::Analyzer(_) => "pqe_analyzer",
            Object::Comtrade(_) => "pqe_comtrade",
            Object::Analysis(_) => "pqe_analysis",
        }
    }
}

/// A type that lives behind a handle.
pub(crate) trait HandleType: Sized {
    /// The C name of the handle type, for messages.
    const NAME: &'static str;
    fn wrap(object: Arc<Mutex<Self>>) -> Object;
    fn unwrap(object: &Object) -> Option<&Arc<Mutex<Self>>>;
}

impl HandleType for crate::analyzer::AnalyzerState {
    const NAME: &'static str = "pqe_analyzer";
    fn wrap(object: Arc<Mutex<Self>>) -> Object {
        Object::Analyzer(object)
    }
    fn unwrap(object: &Object) -> Option<&Arc<Mutex<Self>>> {
        match object {
            Object::Analyzer(a) => Some(a),
            _ => None,
        }
    }
}

impl HandleType for crate::comtrade::ComtradeState {
    const NAME: &'static str = "pqe_comtrade";
    fn wrap(object: Arc<Mutex<Self>>) -> Object {
        Object::Comtrade(object)
    }
    fn unwrap(object: &Object) -> Option<&Arc<Mutex<Self>>> {
        match object {
            Object::Comtrade(c) => Some(c),
            _ => None,
        }
    }
}

impl HandleType for crate::analysis::AnalysisState {
    const NAME: &'static str = "pqe_analysis";
    fn wrap(object: Arc<Mutex<Self>>) -> Object {
        Object::Analysis(object)
    }
    fn unwrap(object: &Object) -> Option<&Arc<Mutex<Self>>> {
        match object {
            Object::Analysis(a) => Some(a),
            _ => None,
        }
    }
}

static REGISTRY: Mutex<BTreeMap<usize, Object>> = Mutex::new(BTreeMap::new());
static NEXT_TOKEN: AtomicUsize = AtomicUsize::new(1);

/// The registry; its operations leave it consistent at every point, so a poisoned lock
/// (a panic elsewhere while it was held) is safe to take over.
fn registry() -> MutexGuard<'static, BTreeMap<usize, Object>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Register `value` and return its token.
pub(crate) fn register<T: HandleType>(value: T) -> usize {
    let object = T::wrap(Arc::new(Mutex::new(value)));
    let mut map = registry();
    let mut token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    // Only reachable after 2^64 (or, on 32-bit targets, 2^32) handles: skip 0 and any
    // token still in use.
    while token == 0 || map.contains_key(&token) {
        token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    }
    map.insert(token, object);
    token
}

fn invalid(token: usize, expected: &str, found: Option<&Object>) -> Failure {
    let message = match found {
        Some(other) => format!(
            "handle {token:#x} is a {}, not a {expected}",
            other.type_name()
        ),
        None => format!(
            "handle {token:#x} is not a live {expected} (already freed, or never returned by \
             this library)"
        ),
    };
    Failure::new(pqe_status::PQE_ERR_INVALID_HANDLE, message)
}

/// Run `f` on the object behind `token`, holding its lock (not the registry's).
pub(crate) fn with<T: HandleType, R>(
    token: usize,
    argument: &str,
    f: impl FnOnce(&mut T) -> Result<R, Failure>,
) -> Result<R, Failure> {
    if token == 0 {
        return Err(Failure::null(argument));
    }
    let object = {
        let map = registry();
        let found = map.get(&token);
        match found.and_then(T::unwrap) {
            Some(object) => Arc::clone(object),
            None => return Err(invalid(token, T::NAME, found)),
        }
    };
    let mut guard = object.lock().map_err(|_| {
        Failure::new(
            pqe_status::PQE_ERR_PANIC,
            format!(
                "{} {token:#x} is unusable: an earlier call on it panicked; free it",
                T::NAME
            ),
        )
    })?;
    f(&mut guard)
}

/// Remove the object behind `token` from the registry and drop it (once no other thread
/// is inside a call on it).
pub(crate) fn remove<T: HandleType>(token: usize, argument: &str) -> Result<(), Failure> {
    if token == 0 {
        return Err(Failure::null(argument));
    }
    let removed = {
        let mut map = registry();
        let found = map.get(&token);
        if found.and_then(T::unwrap).is_none() {
            return Err(invalid(token, T::NAME, found));
        }
        map.remove(&token)
    };
    // Dropped outside the registry's lock.
    drop(removed);
    Ok(())
}
