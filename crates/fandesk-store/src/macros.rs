//! Runs one query text on whichever backend the store has.

/// `on_pool!(store, read|write, |pool| body)`: `body` is compiled once per backend with
/// `pool` bound to that backend's pool. SQLite sends writes through its one-connection
/// writer pool (one writer per database) and reads through the reader pool.
macro_rules! on_pool {
    ($store:expr, read, |$pool:ident| $body:expr) => {
        match $store {
            $crate::connect::Store::Sqlite(db) => {
                let $pool = &db.read;
                $body
            }
            $crate::connect::Store::Postgres(db) => {
                let $pool = &db.pool;
                $body
            }
        }
    };
    ($store:expr, write, |$pool:ident| $body:expr) => {
        match $store {
            $crate::connect::Store::Sqlite(db) => {
                let $pool = &db.write;
                $body
            }
            $crate::connect::Store::Postgres(db) => {
                let $pool = &db.pool;
                $body
            }
        }
    };
}
