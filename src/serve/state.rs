//! The explorer's shared state: the run's database behind a mutex, queried
//! on tokio's blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::store::read::Store;
use crate::store::StoreError;

/// What every handler shares: the open, read-only run database.
#[derive(Clone)]
pub struct Explorer {
    store: Arc<Mutex<Store>>,
}

impl Explorer {
    /// Opens `dir/chain.sqlite` read-only.
    pub fn open(dir: &Path) -> Result<Explorer, StoreError> {
        Ok(Explorer::new(Store::open(dir)?))
    }

    /// Wraps an open store.
    pub fn new(store: Store) -> Explorer {
        Explorer {
            store: Arc::new(Mutex::new(store)),
        }
    }

    /// Runs `f` on the store off the async threads.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let s = store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&s)
        })
        .await
        .expect("a store look-up does not panic")
    }
}
